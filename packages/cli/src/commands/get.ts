import { downloadPrefix, writeVerified } from '@varve/core'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseAddress, pathSpec } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { formatBytes, print, printJson } from '../output.js'
import { startProgress } from '../progress.js'

export function registerGet(cli: Cli): void {
  cli.program
    .command('get <address> <local>')
    .description('download a file, or everything under a prefix (an address ending in /)')
    .option('-j, --jobs <n>', 'files downloaded at once', '4')
    .option('--json', 'print a summary as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  varve get main:train/part-0.parquet ./part-0.parquet\n  varve get v1:train/ ./data/     (or v1:train: a folder when no file has that name)',
    )
    .action(async (address: string, local: string, opts: { jobs: string } & JsonOption) => {
      const parsed = parseAddress(address, 'address', { bareRef: true })
      const { ref } = parsed
      const repo = await cli.repo()
      // `main:train` is the file train, else everything under train/ (as `ls` and `log --` read it).
      const p = await pathSpec(repo, ref, parsed.path)
      if (p && !p.endsWith('/')) {
        const e = await repo.stat(ref, p)
        const isDir = await fs.stat(local).then(
          (s) => s.isDirectory(),
          () => false,
        )
        const target = isDir ? path.join(local, path.basename(p)) : local
        await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true })
        await writeVerified(await repo.getStream(ref, p), target)
        if (opts.json) return printJson({ files: 1, bytes: e.size })
        return print(`Wrote ${target} (${formatBytes(e.size)})`)
      }
      const items = []
      for await (const i of repo.list(ref, { prefix: p })) if (i.type === 'object') items.push(i)
      const progress = startProgress(
        'get',
        items.length,
        items.reduce((n, i) => n + i.size, 0),
      )
      const source = {
        list: (o: { prefix: string }) => repo.list(ref, o),
        stat: (q: string) => repo.stat(ref, q),
        stream: (q: string) => repo.getStream(ref, q),
      }
      try {
        await downloadPrefix(source, p, local, { jobs: Math.max(1, Number(opts.jobs) || 4), onFile: (_f, size) => progress.tick(size) })
      } finally {
        progress.stop()
      }
      const bytes = items.reduce((n, i) => n + i.size, 0)
      if (opts.json) return printJson({ files: items.length, bytes })
      print(`Wrote ${items.length} file${items.length === 1 ? '' : 's'} (${formatBytes(bytes)}) to ${local}`)
    })
}
