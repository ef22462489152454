import type { Cli, JsonOption } from '../cli.js'
import { print, printJson, printNdjson, printTable, shortId, formatTime } from '../output.js'

export function registerTag(cli: Cli): void {
  const tag = cli.program
    .command('tag')
    .description('create, list and delete tags (tags never move)')
    .addHelpText('after', '\nExamples:\n  varve tag create train-2026-11 main\n  varve tag list')
  tag
    .command('create <name> <ref>')
    .description('tag a commit')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  varve tag create train-2026-11 main')
    .action(async (name: string, ref: string, opts: JsonOption) => {
      const t = await (await cli.repo()).createTag(name, ref)
      if (opts.json) return printJson(t)
      print(`Tagged ${shortId(t.commit)} as ${name}`)
    })
  tag
    .command('list')
    .description('list tags')
    .addHelpText('after', '\nExamples:\n  varve tag list\n  varve tag list --json | jq -r .name')
    .option('--json', 'NDJSON, one tag per line')
    .action(async (opts: JsonOption) => {
      const rows: string[][] = []
      for await (const t of (await cli.repo()).tags()) {
        if (opts.json) printNdjson(t)
        else rows.push([t.name, shortId(t.commit), formatTime(t.createdAt)])
      }
      if (!opts.json) printTable(rows)
    })
  tag
    .command('delete <name>')
    .description('delete a tag')
    .addHelpText('after', '\nExamples:\n  varve tag delete train-2026-11')
    .action(async (name: string) => {
      await (await cli.repo()).deleteTag(name)
      print(`Deleted tag ${name}`)
    })
}
