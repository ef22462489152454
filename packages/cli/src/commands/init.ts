import path from 'node:path'
import { Repository } from '@varve/core'
import type { Cli } from '../cli.js'
import { ignoreInGit } from '../git-ignore.js'
import { DOT_VARVE, repositoryOptions } from '../location.js'
import { colors, print, printJson } from '../output.js'

export function registerInit(cli: Cli): void {
  cli.program
    .command('init [location]')
    .description(`create a repository: a folder (default: ./${DOT_VARVE}), s3://bucket/prefix, az://account/container/prefix or gs://bucket/prefix`)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  varve init\n  varve init ./lake\n  VARVE_S3_ENDPOINT=http://127.0.0.1:9000 varve init s3://datasets/events\n' +
        '  AZURE_STORAGE_CONNECTION_STRING=... varve init az://myaccount/datasets/events\n' +
        '  varve init gs://datasets/events   # Application Default Credentials; STORAGE_EMULATOR_HOST for an emulator',
    )
    .action(async (location: string | undefined, opts: { json?: boolean }) => {
      const where = location || cli.globals().repo || process.env.VARVE_REPO || DOT_VARVE
      const repo = await Repository.init(where, await repositoryOptions(where, cli.globals()))
      const head = await repo.resolve(repo.defaultBranch)
      await repo.close()
      const local = !/^s3:\/\//i.test(where)
      const shown = local ? path.resolve(where) : where
      const ignored = local ? ignoreInGit(where) : undefined
      if (opts.json) return printJson({ location: shown, defaultBranch: repo.defaultBranch, head, ...(ignored ? { gitignore: ignored } : {}) })
      print(`Initialized an empty Varve repository in ${colors().bold(shown)} (branch ${repo.defaultBranch})`)
      if (ignored)
        print(
          `Added ${ignored.line} to ${path.relative(process.cwd(), ignored.file) || ignored.file}: this folder is in a git working tree, and the data belongs in Varve, not git`,
        )
    })
}
