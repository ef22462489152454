import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, printNdjson, printTable, shortId } from '../output.js'

export function registerBranch(cli: Cli): void {
  const branch = cli.program.command('branch').description('create, list, delete and protect branches')
  branch
    .command('create <name>')
    .description('create a branch (O(1): nothing is copied)')
    .option('--from <ref>', 'where it starts (default: the default branch)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  varve branch create backfill-2026-11\n  varve branch create exp --from v1')
    .action(async (name: string, opts: { from?: string } & JsonOption) => {
      const repo = await cli.repo()
      const b = await repo.createBranch(name, opts.from ? { from: opts.from } : {})
      if (opts.json) return printJson(b)
      print(`Created branch ${colors().bold(name)} at ${shortId(b.head)}`)
    })
  branch
    .command('list')
    .description('list branches')
    .option('--json', 'NDJSON, one branch per line')
    .action(async (opts: JsonOption) => {
      const repo = await cli.repo()
      const protectedNames = new Set<string>()
      for await (const p of repo.protectedBranches()) protectedNames.add(p.branch)
      const rows: string[][] = []
      const c = colors()
      for await (const b of repo.branches()) {
        const head = await repo.getCommit(b.head)
        if (opts.json) printNdjson({ ...b, protected: protectedNames.has(b.name), message: head.message })
        else rows.push([b.name === repo.defaultBranch ? c.green(b.name) : b.name, c.yellow(shortId(b.head)), protectedNames.has(b.name) ? 'protected' : '', head.message.split('\n')[0]!])
      }
      if (!opts.json) printTable(rows)
    })
  branch
    .command('delete <name>')
    .description('delete a branch and its uncommitted changes')
    .action(async (name: string) => {
      await (await cli.repo()).deleteBranch(name)
      print(`Deleted branch ${name}`)
    })
  branch
    .command('protect <name>')
    .description('refuse direct writes, commits, deletion and reset: changes arrive by merge only')
    .option('--allow-commits', 'still allow direct commits')
    .option('--allow-delete', 'still allow deletion')
    .option('--allow-reset', 'still allow reset')
    .action(async (name: string, opts: { allowCommits?: boolean; allowDelete?: boolean; allowReset?: boolean }) => {
      const rules = await (await cli.repo()).protectBranch(name, { directCommits: !!opts.allowCommits, deletion: !!opts.allowDelete, reset: !!opts.allowReset })
      print(`Protected ${name}: ${Object.entries(rules).map(([k, v]) => `${k} ${v ? 'allowed' : 'refused'}`).join(', ')}`)
    })
  branch
    .command('unprotect <name>')
    .description('remove the protection rules of a branch (the way out when its rules must be repaired directly)')
    .action(async (name: string) => {
      await (await cli.repo()).unprotectBranch(name)
      print(`Unprotected ${name}: direct commits, deletion and reset are allowed again`)
    })
}
