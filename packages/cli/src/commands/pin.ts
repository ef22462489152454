import { pinDataset } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, shortId } from '../output.js'

export function registerPin(cli: Cli): void {
  cli.program
    .command('pin <ref>')
    .description('record the commit a ref names now in a lockfile, with the code commit of the working directory')
    .option('--name <name>', 'the pin\'s name in the lockfile', 'default')
    .option('--lock <file>', 'the lockfile', 'varve.lock')
    .option('--json', 'print the pin as JSON')
    .addHelpText('after', '\nThen, in a training job:\n  const ds = await openPinned(\'varve.lock\', \'train-data\')   // from @varve/core\n\nExample:\n  varve pin main --name train-data')
    .action(async (ref: string, opts: { name: string; lock: string } & JsonOption) => {
      const pin = await pinDataset(await cli.repo(), ref, { name: opts.name, lock: opts.lock })
      if (opts.json) return printJson(pin)
      print(`Pinned ${colors().bold(opts.name)} = ${ref} at ${shortId(pin.commit)} in ${opts.lock}${pin.code?.commit ? ` (code ${pin.code.commit.slice(0, 10)}${pin.code.dirty ? ', dirty' : ''})` : ''}`)
    })
}
