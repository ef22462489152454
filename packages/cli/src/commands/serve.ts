import path from 'node:path'
import { VarveError, ErrorCodes } from '@varve/core'
import type { Cli } from '../cli.js'
import { repositoryOptions } from '../location.js'
import { print } from '../output.js'

export function registerServe(cli: Cli): void {
  cli.program
    .command('serve [location]')
    .description('serve repositories over an S3-compatible API and an HTTP JSON API (/api/v1), with access keys')
    .option('--config <file>', 'a YAML or JSON config: repositories, listen address, keys and their grants')
    .option('--name <bucket>', "with a location: the bucket name (default: the folder or prefix's last segment)")
    .option('--listen <host:port>', 'where to listen (default 127.0.0.1:9010; port 0 picks a free one)')
    .addHelpText(
      'after',
      '\nExamples:\n  varve serve --config serve.yaml\n  VARVE_SERVE_ACCESS_KEY=admin VARVE_SERVE_SECRET_KEY=s3cret varve serve ./lake --listen 127.0.0.1:9010\n' +
        '\nThen, from any S3 client: endpoint http://127.0.0.1:9010, bucket lake, key <ref>/<path> (main/train/x.parquet).\n' +
        'The first line on stdout is "listening on http://<host>:<port>"; SIGTERM drains in-flight requests and exits 0.',
    )
    .action(async (location: string | undefined, opts: { config?: string; name?: string; listen?: string }) => {
      const server = await import('@varve/server')
      let config
      if (opts.config) {
        if (location) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'give a location or --config, not both', { details: { usage: true } })
        config = await server.loadServeConfig(opts.config)
        if (opts.listen) config = { ...config, listen: opts.listen }
      } else {
        if (!location)
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'varve serve needs a repository location or --config <file>', { details: { usage: true } })
        const accessKey = process.env.VARVE_SERVE_ACCESS_KEY
        const secretKey = process.env.VARVE_SERVE_SECRET_KEY
        if (!accessKey || !secretKey)
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'set VARVE_SERVE_ACCESS_KEY and VARVE_SERVE_SECRET_KEY (the admin key), or use --config', {
            details: { usage: true },
          })
        const name = opts.name ?? bucketNameOf(location)
        config = server.validateServeConfig(
          {
            listen: opts.listen ?? server.DEFAULT_LISTEN,
            repositories: [{ name, location }],
            keys: [{ accessKey, secretKey, grants: [{ repositories: ['*'], branches: ['*'], actions: ['read', 'write', 'commit', 'admin'] }] }],
          },
          'the command line',
        )
      }
      // S3 settings for s3:// repositories and for the sources imported entries are read from.
      const s3 = config.repositories.find((r) => /^s3:\/\//i.test(r.location))
      const running = await server.startServer(config, { repositoryOptions: await repositoryOptions(s3?.location ?? '', cli.globals()) })
      print(`listening on ${running.url}`)
      for (const r of config.repositories) print(`  bucket ${r.name}: ${r.location}`)
      await runUntilStopped(running)
    })
}

/** Serves until SIGTERM or SIGINT, then lets in-flight requests finish and closes (exit 0). */
export function runUntilStopped(running: { close(): Promise<void> }): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      void running.close().then(resolve)
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}

/** A folder's or prefix's last segment, made a valid bucket name (`./My_Lake` → `my-lake`). */
export function bucketNameOf(location: string): string {
  const trimmed = location.replace(/\/+$/, '')
  const last = /^s3:\/\//i.test(trimmed) ? trimmed.split('/').pop()! : path.basename(path.resolve(trimmed))
  const name = last
    .toLowerCase()
    .replace(/^\./, '')
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return name.length >= 3 ? name.slice(0, 63) : `${name}-repo`.replace(/^-/, 'varve-')
}
