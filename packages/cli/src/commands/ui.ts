import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { ErrorCodes, VarveError } from '@varve/core'
import type { Cli } from '../cli.js'
import { DOT_VARVE, findLocation, repositoryOptions } from '../location.js'
import { print } from '../output.js'
import { bucketNameOf, runUntilStopped } from './serve.js'

export function registerUi(cli: Cli): void {
  cli.program
    .command('ui [location]')
    .description('the web UI for yourself on a repository: listens on 127.0.0.1 and prints a URL that logs you in once (opens nothing)')
    .option('--port <port>', 'the port on 127.0.0.1 (default: a free one)')
    .addHelpText(
      'after',
      '\nExamples:\n  varve ui\n  varve ui ./lake --port 8080\n' +
        '\nThe first line on stdout is "Varve UI: http://127.0.0.1:<port>/ui/?token=<one-time token>". Open it in a browser:\n' +
        'the token logs in once (as you, with every right on this repository) and leaves the address bar. Ctrl-C stops.\n' +
        'For a team, run varve serve with access keys: its /ui/ asks each person for their key.',
    )
    .action(async (location: string | undefined, opts: { port?: string }) => {
      const port = opts.port === undefined ? 0 : Number(opts.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `--port must be a port number, not ${opts.port}`, { details: { usage: true } })
      const where = location ?? findLocation(cli.globals())
      const server = await import('@varve/server')
      // The one key exists only in this process: its secret is never shown, the printed token stands for it.
      const author = cli.globals().author ?? process.env.VARVE_AUTHOR ?? os.userInfo().username
      const accessKey = author.replace(/[^\w.@-]+/g, '-').slice(0, 64) || 'you'
      const name =
        path.basename(path.resolve(where)) === DOT_VARVE && !/^s3:\/\//i.test(where) ? bucketNameOf(path.dirname(path.resolve(where))) : bucketNameOf(where)
      const config = server.validateServeConfig(
        {
          listen: `127.0.0.1:${port}`,
          repositories: [{ name, location: where }],
          keys: [{ accessKey, secretKey: randomBytes(32).toString('base64url'), grants: [{ actions: ['read', 'write', 'commit', 'approve', 'admin'] }] }],
        },
        'varve ui',
      )
      const running = await server.startServer(config, { repositoryOptions: await repositoryOptions(where, cli.globals()) })
      print(`Varve UI: ${running.oneTimeLoginUrl(accessKey)}`)
      print(`  repository ${name}: ${where}`)
      await runUntilStopped(running)
    })
}
