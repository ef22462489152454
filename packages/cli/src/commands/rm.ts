import { VarveError, ErrorCodes } from '@varve/core'
import { parseAddress } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { print, printJson } from '../output.js'

export function registerRm(cli: Cli): void {
  cli.program
    .command('rm <address>')
    .description('stage the removal of a file, or with -r of everything under a prefix')
    .option('-r, --recursive', 'remove everything under the prefix')
    .option('--json', 'print a summary as JSON')
    .addHelpText('after', '\nExamples:\n  varve rm exp:old/file.csv\n  varve rm -r exp:tmp/')
    .action(async (address: string, opts: { recursive?: boolean } & JsonOption) => {
      const { ref: branch, path } = parseAddress(address)
      const repo = await cli.repo()
      let removed = 0
      if (opts.recursive) {
        const paths: string[] = []
        for await (const i of repo.list(branch, { prefix: path })) if (i.type === 'object') paths.push(i.path)
        for (const p of paths) await repo.delete(branch, p)
        removed = paths.length
      } else {
        if (!path || path.endsWith('/')) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${address} is a prefix: use rm -r`, { details: { usage: true } })
        await repo.delete(branch, path)
        removed = 1
      }
      if (opts.json) return printJson({ removed })
      print(`Staged the removal of ${removed} file${removed === 1 ? '' : 's'} on ${branch}`)
    })
}
