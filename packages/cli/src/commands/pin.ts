import { pinDataset } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatTime, print, printJson, printNdjson, printTable, shortId } from '../output.js'

export function registerPin(cli: Cli): void {
  const pin = cli.program
    .command('pin')
    .description('pin commits for training jobs: a pin keeps its data from gc until removed')
    .addHelpText('after', '\nExamples:\n  varve pin main --name train-data     (pins main now, writes varve.lock)\n  varve pin list\n  varve pin rm train-data')
  pin
    .command('create <ref>', { isDefault: true })
    .description('pin the commit a ref names now, and record it with the code commit in a lockfile')
    .option('--name <name>', "the pin's name (in the repository and in the lockfile)", 'default')
    .option('--lock <file>', 'the lockfile', 'varve.lock')
    .option('--json', 'print the pin as JSON')
    .addHelpText(
      'after',
      "\nThen, in a training job:\n  const ds = await openPinned('varve.lock', 'train-data')   // from @varve/core\n\nExample:\n  varve pin main --name train-data",
    )
    .action(async (ref: string, opts: { name: string; lock: string } & JsonOption) => {
      const p = await pinDataset(await cli.repo(), ref, { name: opts.name, lock: opts.lock })
      if (opts.json) return printJson(p)
      print(
        `Pinned ${colors().bold(opts.name)} = ${ref} at ${shortId(p.commit)} in ${opts.lock}${p.code?.commit ? ` (code ${p.code.commit.slice(0, 10)}${p.code.dirty ? ', dirty' : ''})` : ''}`,
      )
    })
  pin
    .command('list')
    .description('list the pins of the repository')
    .addHelpText('after', '\nExamples:\n  varve pin list\n  varve pin list --json | jq -r .commit')
    .option('--json', 'NDJSON, one pin per line')
    .action(async (opts: JsonOption) => {
      const rows: string[][] = []
      for await (const p of (await cli.repo()).pins()) {
        if (opts.json) printNdjson(p)
        else rows.push([p.name, shortId(p.commit), p.ref, formatTime(p.createdAt), p.author])
      }
      if (!opts.json) printTable(rows)
    })
  pin
    .command('rm <name>')
    .description('remove a pin: its data is collected by gc like any other from then on')
    .addHelpText('after', '\nExamples:\n  varve pin rm train-data')
    .action(async (name: string) => {
      await (await cli.repo()).unpin(name)
      print(`Removed pin ${name}`)
    })
}
