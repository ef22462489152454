import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { VarveError, type PutFolderSummary } from '@varve/core'
import { parseAddress } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { formatBytes, print, printJson } from '../output.js'
import { startProgress, type Progress } from '../progress.js'

export function registerPut(cli: Cli): void {
  cli.program
    .command('put <local> <address>')
    .description('upload a file, or a folder recursively, into a branch (staged until commit)')
    .option('-j, --jobs <n>', 'files read at once', '16')
    .option('--follow-symlinks', 'in a folder, store what symbolic links point to (default: they are skipped, and counted in the summary)')
    .option('--json', 'print a summary as JSON')
    .addHelpText(
      'after',
      "\nA folder's files go under the address's path; files whose content the branch already has at that\n" +
        'path are skipped, and a local checksum cache avoids reading unchanged files at all. Small files are\n' +
        'stored in packs, so a folder of 100k files is a few hundred writes. Ctrl-C stops reading files and\n' +
        'stages what was read; running the command again continues where it stopped.\n\nExamples:\n' +
        '  varve put part-0.parquet exp:train/part-0.parquet\n  varve put ./backfill/ exp:train/day=2026-11-23/',
    )
    .action(async (local: string, address: string, opts: { jobs: string; followSymlinks?: boolean } & JsonOption) => {
      const { ref: branch, path: target } = parseAddress(address)
      const jobs = Number(opts.jobs)
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256)
        throw new VarveError('INVALID_ARGUMENT', `--jobs must be a whole number from 1 to 256, not ${JSON.stringify(opts.jobs)}`)
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
      const abort = new AbortController()
      const onSigint = () => abort.abort()
      process.once('SIGINT', onSigint)
      let progress: Progress | undefined
      let summary: PutFolderSummary
      try {
        summary = await repo.putFolder(branch, local, prefix, {
          concurrency: jobs,
          followSymlinks: opts.followSymlinks === true,
          signal: abort.signal,
          onWalked: ({ files, bytes }) => (progress = startProgress('put', files, bytes)),
          onFile: (bytes) => progress?.tick(bytes),
        })
      } finally {
        process.off('SIGINT', onSigint)
        progress?.stop()
      }
      if (opts.json) printJson(summary)
      else print(describe(summary, branch, prefix))
      if (summary.interrupted) process.exitCode = 130
    })
}

function describe(summary: PutFolderSummary, branch: string, prefix: string): string {
  const secs = Math.max(summary.seconds, 0.001)
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const notFollowed = summary.symlinksNotFollowed
  return (
    `${summary.interrupted ? 'Interrupted: staged' : 'Staged'} ${plural(summary.uploaded, 'file')} (${formatBytes(summary.bytes)}) under ${branch}:${prefix}; ` +
    `${summary.skipped} unchanged skipped; ${summary.seconds.toFixed(1)} s, ${Math.round(summary.files / secs)} files/s, ${formatBytes(summary.bytes / secs)}/s` +
    (summary.interrupted ? `; ${summary.files - summary.uploaded - summary.skipped} not read (run the command again to continue)` : '') +
    (notFollowed
      ? `; ${plural(notFollowed, 'symbolic link')} or special file${notFollowed === 1 ? '' : 's'} not stored (${summary.notFollowedExamples.join(', ')}` +
        `${notFollowed > summary.notFollowedExamples.length ? ', ...' : ''}; --follow-symlinks stores what links point to)`
      : '')
  )
}
