import { createRequire } from 'node:module'
import { Command, CommanderError } from 'commander'
import { ErrorCodes, VarveError } from '@varve/core'
import { Cli } from './cli.js'
import { registerBlame } from './commands/blame.js'
import { registerBranch } from './commands/branch.js'
import { registerCat } from './commands/cat.js'
import { registerCommit } from './commands/commit.js'
import { registerCompletion } from './commands/completion.js'
import { registerDiff } from './commands/diff.js'
import { registerGet } from './commands/get.js'
import { registerHooks } from './commands/hooks.js'
import { registerImport } from './commands/import.js'
import { registerInit } from './commands/init.js'
import { registerLog } from './commands/log.js'
import { registerLs } from './commands/ls.js'
import { registerMaintenance } from './commands/maintenance.js'
import { registerMerge } from './commands/merge.js'
import { registerMergeRequests } from './commands/mr.js'
import { registerPin } from './commands/pin.js'
import { registerPut } from './commands/put.js'
import { registerReflog } from './commands/reflog.js'
import { registerRemotes } from './commands/remote.js'
import { registerRm } from './commands/rm.js'
import { registerRollback } from './commands/rollback.js'
import { registerServe } from './commands/serve.js'
import { registerUi } from './commands/ui.js'
import { registerShow } from './commands/show.js'
import { registerStat } from './commands/stat.js'
import { registerStatus } from './commands/status.js'
import { registerTag } from './commands/tag.js'
import { EXIT, exitCodeOf, formatError, formatJsonError } from './exit-codes.js'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

/**
 * `--json` anywhere before `--` (or after it for `diff`, whose flags may follow its path): errors,
 * usage errors included, become one JSON document on stderr.
 */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  if (end < 0) return argv.includes('--json')
  return argv.slice(0, end).includes('--json') || (argv.slice(0, end).includes('diff') && argv.slice(end + 1).includes('--json'))
}

export function buildProgram(options: { json?: boolean } = {}): { program: Command; cli: Cli } {
  const program = new Command('varve')
    .description('Git for datasets: branch, validate, merge and roll back data on a folder or S3')
    .version(version)
    .option(
      '--repo <location>',
      'the repository: a folder, s3://bucket/prefix, az://account/container/prefix or gs://bucket/prefix (default: $VARVE_REPO, else the nearest .varve)',
    )
    .option('--author <name>', 'who is acting (default: $VARVE_AUTHOR, else the OS user)')
    .option(
      '--unsafe-single-writer',
      'open an object store that ignores conditional writes (only one writer at a time may use it; default: $VARVE_UNSAFE_SINGLE_WRITER)',
    )
    .exitOverride()
  if (options.json)
    program.configureOutput({
      outputError: (message) => {
        const text = message.replace(/^error: /, '').trim()
        process.stderr.write(formatJsonError(new VarveError(ErrorCodes.INVALID_ARGUMENT, text, { details: { usage: true } })) + '\n')
      },
    })
  else program.showHelpAfterError('(run varve --help, or varve <command> --help)')
  program.addHelpText(
    'after',
    '\nAddresses are ref:path, e.g. main:train/part-0.parquet, v1:, exp~2:data/\n' +
      'Exit codes: 0 ok, 1 error, 2 usage, 3 merge conflict, 4 a gate refused (or approvals missing)\n\n' +
      'A session:\n  varve init\n  varve branch create backfill\n  varve put ./day=4/ backfill:train/day=4/\n' +
      '  varve status backfill\n  varve commit backfill -m "day 4"\n  varve diff main backfill\n  varve merge backfill main\n' +
      '  varve log main --oneline\n  varve revert main <commit>',
  )
  const cli = new Cli(program)
  for (const register of [
    registerInit,
    registerBranch,
    registerTag,
    registerPut,
    registerImport,
    registerGet,
    registerCat,
    registerLs,
    registerStat,
    registerRm,
    registerStatus,
    registerCommit,
    registerLog,
    registerBlame,
    registerReflog,
    registerShow,
    registerDiff,
    registerMerge,
    registerMergeRequests,
    registerRollback,
    registerHooks,
    registerPin,
    registerRemotes,
    registerServe,
    registerUi,
    registerMaintenance,
    registerCompletion,
  ])
    register(cli)
  return { program, cli }
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv.slice(2))
  const { program, cli } = buildProgram({ json })
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok
      return EXIT.usage // commander already printed what was wrong
    }
    const e = err instanceof VarveError ? err : new VarveError('INTERNAL', (err as Error)?.message ?? String(err), { cause: err })
    process.stderr.write((json ? formatJsonError(e) : formatError(e)) + '\n')
    if (process.env.VARVE_DEBUG === '1') process.stderr.write(`${(err as Error)?.stack ?? ''}\n`)
    return exitCodeOf(e)
  } finally {
    await cli.close()
  }
}
