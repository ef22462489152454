import type { Command } from 'commander'
import type { Repository } from '@varve/core'
import { openRepository, type GlobalOptions } from './location.js'

/** What every verb gets: the parsed global options and the repository, opened on first use. */
export class Cli {
  #repo: Promise<Repository> | undefined
  constructor(readonly program: Command) {}

  globals(): GlobalOptions {
    return this.program.opts<GlobalOptions>()
  }

  repo(): Promise<Repository> {
    return (this.#repo ??= openRepository(this.globals()))
  }

  async close(): Promise<void> {
    if (this.#repo) await (await this.#repo.catch(() => undefined))?.close()
  }
}

export interface JsonOption {
  readonly json?: boolean
}
