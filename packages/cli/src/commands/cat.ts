import { pipeline } from 'node:stream/promises'
import { parseAddress } from '../address.js'
import type { Cli } from '../cli.js'

export function registerCat(cli: Cli): void {
  cli.program
    .command('cat <address>')
    .description('write a file\'s content to stdout (verified against its address)')
    .addHelpText('after', '\nExample:\n  varve cat main:config/schema.json | jq .')
    .action(async (address: string) => {
      const { ref, path } = parseAddress(address)
      const repo = await cli.repo()
      await pipeline(await repo.getStream(ref, path), process.stdout, { end: false })
    })
}
