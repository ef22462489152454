import fs from 'node:fs/promises'
import { CONTRACTS_PREFIX, mergeConflict, parseContract, VarveError } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatTime, print, printJson, printNdjson, printTable, shortId } from '../output.js'

export function registerHooks(cli: Cli): void {
  const hooks = cli.program
    .command('hooks')
    .description('quality gates: the contracts on a branch, their runs, and checks without merging')
    .addHelpText('after', '\nExamples:\n  varve hooks list main\n  varve hooks check backfill main\n  varve hooks runs main -n 20')
  hooks
    .command('list [ref]')
    .description(`the contracts in ${CONTRACTS_PREFIX} at a ref (default: the default branch)`)
    .addHelpText('after', '\nExamples:\n  varve hooks list\n  varve hooks list v1 --json')
    .option('--json', 'NDJSON, one contract per line')
    .action(async (ref: string | undefined, opts: JsonOption) => {
      const repo = await cli.repo()
      const at = ref ?? repo.defaultBranch
      const rows: string[][] = []
      for await (const item of repo.list(at, { prefix: CONTRACTS_PREFIX })) {
        if (item.type !== 'object' || !/\.ya?ml$/i.test(item.path)) continue
        const c = parseContract(item.path, Buffer.from(await repo.get(at, item.path)).toString('utf8'))
        const summary = { id: c.id, file: c.file, on: c.on, branches: c.branches, checks: c.checks.map((k) => k.type) }
        if (opts.json) printNdjson(summary)
        else rows.push([c.id, c.on.join(','), c.branches.join(',') || '*', summary.checks.join(', '), c.file])
      }
      if (!opts.json) printTable(rows, { header: ['id', 'on', 'branches', 'checks', 'file'] })
    })
  hooks
    .command('validate <file...>')
    .description('check local rules files against the full schema before committing them (no repository needed)')
    .option('--json', 'NDJSON, one result per file')
    .addHelpText('after', '\nExample:\n  varve hooks validate _varve/hooks/train-contract.yaml')
    .action(async (files: string[], opts: JsonOption) => {
      let bad = 0
      for (const file of files) {
        const text = await fs.readFile(file, 'utf8').catch(() => {
          throw new VarveError('NOT_FOUND', `local file ${file} does not exist`, { details: { path: file } })
        })
        try {
          const c = parseContract(file, text)
          if (opts.json) printNdjson({ file, ok: true, id: c.id, on: c.on, checks: c.checks.map((k) => k.type) })
          else print(`${colors().green('ok')} ${file}: contract ${c.id}, ${c.checks.length} check${c.checks.length === 1 ? '' : 's'} on ${c.on.join(', ')}`)
        } catch (err) {
          if (!VarveError.is(err, 'INVALID_CONFIG')) throw err
          bad++
          if (opts.json) printNdjson({ file, ok: false, error: { code: err.code, message: err.message, details: err.details } })
          else print(`${colors().red('invalid')} ${err.message}`)
        }
      }
      if (bad) process.exitCode = 1
    })
  hooks
    .command('runs [branch]')
    .description('recorded hook runs, newest first')
    .addHelpText('after', '\nExamples:\n  varve hooks runs main\n  varve hooks runs --json | jq \'select(.status != "passed")\'')
    .option('-n, --max-count <n>', 'at most n runs', '20')
    .option('--json', 'NDJSON, one run per line')
    .action(async (branch: string | undefined, opts: { maxCount: string } & JsonOption) => {
      const repo = await cli.repo()
      const c = colors()
      const rows: string[][] = []
      for await (const r of repo.hookRuns({ ...(branch ? { branch } : {}), limit: Number(opts.maxCount) || 20 })) {
        if (opts.json) printNdjson(r)
        else {
          const status = r.status === 'passed' ? c.green(r.status) : c.red(r.status)
          rows.push([formatTime(r.startedAt), r.event, r.branch, r.hookId, status, `${r.durationMs} ms`, shortId(r.candidate), r.message])
          for (const f of r.failures) rows.push(['', '', '', '', '', '', '', `${f.file ? `${f.file}: ` : ''}${f.reason}`])
        }
      }
      if (!opts.json) printTable(rows)
    })
  hooks
    .command('check <source> <destination>')
    .description('run the pre-merge gates of a merge without merging (exit 4 when they refuse)')
    .addHelpText('after', '\nExamples:\n  varve hooks check backfill main\n  varve hooks check backfill main --json | jq .failures')
    .option('--json', 'print the outcome as JSON')
    .action(async (source: string, dest: string, opts: JsonOption) => {
      const repo = await cli.repo()
      try {
        const r = await repo.merge(source, dest, { dryRun: true })
        // The gates run on the merge as it would be: with conflicts there is none (exit 3, as merge).
        if (r.conflicts?.length) throw mergeConflict(dest, 'merge', r.conflicts, source)
        if (opts.json) return printJson({ ok: true, upToDate: r.upToDate, candidate: r.commit.id })
        print(r.upToDate ? `${dest} already contains ${source}` : colors().green(`gates passed: ${source} can be merged into ${dest}`))
      } catch (err) {
        if (opts.json && VarveError.is(err, 'HOOK_FAILED')) {
          printJson({ ok: false, failures: err.details.failures })
          process.exitCode = 4
          return
        }
        throw err
      }
    })
}
