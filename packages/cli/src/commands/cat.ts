import { pipeline } from 'node:stream/promises'
import { parseAddress } from '../address.js'
import type { Cli } from '../cli.js'

/** Files up to this size are verified before any byte is written to stdout. */
const VERIFIED_FIRST = 64 * 1024 * 1024

export function registerCat(cli: Cli): void {
  cli.program
    .command('cat <address>')
    .description("write a file's content to stdout (verified against its address)")
    .addHelpText(
      'after',
      `\nExample:\n  varve cat main:config/schema.json | jq .\n\nFiles up to ${VERIFIED_FIRST / 1024 / 1024} MiB are verified before a byte is written: a corrupt one writes nothing and exits 1.\nLarger ones stream, and are verified as they end: a mismatch then exits 1 (CORRUPT_OBJECT) after\nthe bytes already written, so check the exit code (set -o pipefail) before using the output.`,
    )
    .action(async (address: string) => {
      const { ref, path } = parseAddress(address)
      const repo = await cli.repo()
      const entry = await repo.stat(ref, path)
      // Small files are read and verified whole first: a corrupt object never reaches stdout.
      if (entry.size <= VERIFIED_FIRST) {
        const bytes = await repo.get(ref, path)
        await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())))
        return
      }
      await pipeline(repo.streamEntry(entry), process.stdout, { end: false })
    })
}
