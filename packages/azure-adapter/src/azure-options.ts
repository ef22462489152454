import { VarveError, ErrorCodes } from '@varve/core'

/**
 * How to reach Azure Blob Storage. Credentials come the Azure SDK's usual ways, first found wins:
 * `connectionString` (default `AZURE_STORAGE_CONNECTION_STRING`: how a user points Varve at Azurite),
 * an account key (`AZURE_STORAGE_KEY`), a SAS token (`AZURE_STORAGE_SAS_TOKEN`), else
 * `DefaultAzureCredential` from `@azure/identity` when it is installed (managed identity, Azure CLI login).
 */
export interface AzureOptions {
  readonly connectionString?: string
  /** The blob endpoint (default `https://<account>.blob.core.windows.net`, or the connection string's). */
  readonly endpoint?: string
  readonly accountKey?: string
  readonly sasToken?: string
  /** An encryption scope every object is written with (customer-managed keys in Key Vault). */
  readonly encryptionScope?: string
  /** Attempts per request for throttling, 5xx and network errors, with the SDK's backoff (default 6). */
  readonly maxAttempts?: number
}

/** Where a repository lives: a storage account, a container and a key prefix ('' or ending in '/'). */
export interface AzureLocation {
  readonly account: string
  readonly container: string
  readonly prefix: string
}

/** Parses `az://<account>/<container>/<prefix>`. */
export function parseAzureUrl(url: string): AzureLocation {
  const m = /^az:\/\/([^/]+)\/([^/]+)\/?(.*)$/i.exec(url)
  const bad = (why: string) =>
    new VarveError(ErrorCodes.INVALID_ARGUMENT, `not an Azure Blob location: ${JSON.stringify(url)} (${why}; expected az://<account>/<container>/<prefix>)`, {
      details: { location: url },
    })
  if (!m) throw bad('no account and container')
  const [, account, container, rest] = m as unknown as [string, string, string, string]
  if (!/^[a-z0-9]{3,24}$/.test(account)) throw bad('an account name is 3-24 lowercase letters and digits')
  if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container)) throw bad('a container name is 3-63 lowercase letters, digits and single hyphens')
  const prefix = rest.replace(/\/+$/, '')
  if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) throw bad('invalid prefix')
  return { account, container, prefix: prefix ? `${prefix}/` : '' }
}
