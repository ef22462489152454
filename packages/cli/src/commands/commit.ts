import { readCodeLineage } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, shortId } from '../output.js'

export function registerCommit(cli: Cli): void {
  cli.program
    .command('commit <branch>')
    .description('commit everything staged on a branch; inside a git working tree, records the code commit as lineage')
    .requiredOption('-m, --message <message>', 'the commit message')
    .option('--meta <key=value...>', 'extra metadata')
    .option('--allow-empty', 'commit even when nothing changed')
    .option('--no-lineage', 'do not record the git HEAD of the working directory')
    .option('--json', 'print the commit as JSON')
    .addHelpText('after', '\nExample:\n  varve commit exp -m "backfill day 4" --meta ticket=DATA-42')
    .action(async (branch: string, opts: { message: string; meta?: string[]; allowEmpty?: boolean; lineage: boolean } & JsonOption) => {
      const repo = await cli.repo()
      const metadata: Record<string, unknown> = {}
      for (const kv of opts.meta ?? []) {
        const eq = kv.indexOf('=')
        if (eq > 0) metadata[kv.slice(0, eq)] = kv.slice(eq + 1)
      }
      const code = opts.lineage ? await readCodeLineage(process.cwd()) : undefined
      if (code) metadata.code = { ...code }
      const c = await repo.commit(branch, { message: opts.message, metadata: metadata as never, ...(opts.allowEmpty ? { allowEmpty: true } : {}) })
      if (opts.json) return printJson(c)
      print(
        `[${colors().bold(branch)} ${shortId(c.id)}] ${c.message}${code?.commit ? ` (code ${code.commit.slice(0, 10)}${code.dirty ? ', dirty' : ''})` : ''}`,
      )
    })
}
