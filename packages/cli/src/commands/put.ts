import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { VarveError, type Repository } from '@varve/core'
import { parseAddress } from '../address.js'
import { ChecksumCache } from '../checksum-cache.js'
import type { Cli, JsonOption } from '../cli.js'
import { mapLimit } from '@varve/core/internal'
import { walkFolder, type LocalFile } from '../local-files.js'
import { formatBytes, print, printJson } from '../output.js'
import { startProgress } from '../progress.js'

export function registerPut(cli: Cli): void {
  cli.program
    .command('put <local> <address>')
    .description('upload a file, or a folder recursively, into a branch (staged until commit)')
    .option('-j, --jobs <n>', 'files uploaded at once', '4')
    .option('--json', 'print a summary as JSON')
    .addHelpText(
      'after',
      '\nA folder\'s files go under the address\'s path; files whose content the branch already has at that\n' +
        'path are skipped, and a local checksum cache avoids re-hashing unchanged files.\n\nExamples:\n' +
        '  varve put part-0.parquet exp:train/part-0.parquet\n  varve put ./backfill/ exp:train/day=2026-11-23/',
    )
    .action(async (local: string, address: string, opts: { jobs: string } & JsonOption) => {
      const { ref: branch, path: target } = parseAddress(address)
      const repo = await cli.repo()
      const st = await fs.stat(local).catch(() => {
        throw new VarveError('NOT_FOUND', `local path ${local} does not exist`, { details: { path: local } })
      })
      if (!st.isDirectory()) {
        const dest = !target || target.endsWith('/') ? target + path.basename(local) : target
        const e = await repo.put(branch, dest, createReadStream(local))
        if (opts.json) return printJson({ uploaded: 1, skipped: 0, bytes: e.size, entries: [e] })
        return print(`Staged ${branch}:${dest} (${formatBytes(e.size)})`)
      }
      const prefix = target && !target.endsWith('/') ? `${target}/` : target
      const summary = await putFolder(repo, branch, local, prefix, Math.max(1, Number(opts.jobs) || 4))
      if (opts.json) return printJson(summary)
      print(`Staged ${summary.uploaded} file${summary.uploaded === 1 ? '' : 's'} (${formatBytes(summary.bytes)}) under ${branch}:${prefix}; ${summary.skipped} unchanged skipped`)
    })
}

async function putFolder(repo: Repository, branch: string, dir: string, prefix: string, jobs: number) {
  const files = await walkFolder(dir)
  const cache = new ChecksumCache()
  const progress = startProgress('put', files.length, files.reduce((n, f) => n + f.size, 0))
  let uploaded = 0
  let skipped = 0
  let bytes = 0
  try {
    await mapLimit(files, jobs, async (f: LocalFile) => {
      const dest = prefix + f.rel
      const st = await fs.stat(f.abs)
      const known = await cache.knownAddress(f.abs, st)
      const current = known ? await repo.stat(branch, dest).catch((e) => (VarveError.is(e, 'NOT_FOUND') ? undefined : Promise.reject(e))) : undefined
      if (known && current?.address === known) {
        skipped++
      } else {
        const upload = await cache.reading(f.abs)
        const e = await repo.put(branch, dest, upload.stream)
        cache.remember(f.abs, st, upload.xxh64(), e.address)
        uploaded++
        bytes += e.size
      }
      progress.tick(f.size)
    })
  } finally {
    progress.stop()
    cache.close()
  }
  return { uploaded, skipped, bytes }
}
