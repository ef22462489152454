/**
 * Where webhooks may go and what they say about the repository: set by the client that runs the
 * gate (the library's options, `varve serve`'s config, or `VARVE_WEBHOOK_ALLOW_HOSTS`).
 */
export interface WebhookSettings {
  /**
   * Hosts a webhook may call (`ci.example.com`, `127.0.0.1:8080`, `*.example.com`); absent: any.
   * A check naming another host fails without sending anything.
   */
  readonly allowHosts?: readonly string[]
  /** Environment the secret and header variables are read from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The repository's name in payloads (default: its location). */
  readonly repository?: string
  /** A link to the paged diff between two commits (`varve serve` sets one to its JSON API). */
  readonly diffUrl?: (base: string, candidate: string) => string
}
