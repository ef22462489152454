import { Repository, type WebhookSettings } from '@varve/core'
import type { ServedRepository } from './config.js'

/** The served repositories, opened on first use and kept open (one Repository per bucket). */
export class Repositories {
  readonly #byName: Map<string, ServedRepository>
  readonly #open = new Map<string, Promise<Repository>>()

  constructor(
    served: readonly ServedRepository[],
    private readonly options: Record<string, unknown> = {},
    /** Per repository: what its webhook checks send (its name, a diff link on this server) and where. */
    private readonly webhooks: (name: string) => WebhookSettings = () => ({}),
  ) {
    this.#byName = new Map(served.map((r) => [r.name, r]))
  }

  get names(): string[] {
    return [...this.#byName.keys()].sort()
  }

  has(name: string): boolean {
    return this.#byName.has(name)
  }

  async get(name: string): Promise<Repository> {
    const served = this.#byName.get(name)
    if (!served) throw new Error(`no repository ${name}`)
    let p = this.#open.get(name)
    if (!p) {
      if (/^s3:\/\//i.test(served.location)) await import('@varve/s3-adapter') // registers s3:// (the AWS SDK loads only when needed)
      p = Repository.open(served.location, {
        ...this.options,
        ...storeEncryption(served, this.options),
        webhooks: { ...(this.options.webhooks as WebhookSettings | undefined), ...this.webhooks(name) },
      })
      p.catch(() => this.#open.delete(name)) // a repository that failed to open is tried again next time
      this.#open.set(name, p)
    }
    return p
  }

  async close(): Promise<void> {
    for (const p of this.#open.values()) await (await p.catch(() => undefined))?.close()
    this.#open.clear()
  }
}

/** A served repository's own encryption (config) laid over the store options it shares with the others. */
function storeEncryption(served: ServedRepository, options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const e = served.encryption
  if (!e) return {}
  const scheme = /^([a-z0-9]+):\/\//i.exec(served.location)?.[1]?.toLowerCase()
  const own = (key: string) => (options[key] ?? {}) as Record<string, unknown>
  if (scheme === 's3') return { s3: { ...own('s3'), encryption: e } }
  if (scheme === 'az') return { azure: { ...own('azure'), encryptionScope: e.scope } }
  if (scheme === 'gs') return { gcs: { ...own('gcs'), kmsKeyName: e.kmsKeyName } }
  return {}
}
