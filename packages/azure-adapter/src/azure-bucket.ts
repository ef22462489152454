import { Readable } from 'node:stream'
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import type { Bucket, BucketObject, BucketPutOptions, BucketRead, BucketGetOptions, ByteSource, ListPage, ListPageOptions, PutMode } from '@varve/core'
import { emptyRead } from '@varve/core'
import { VarveError, ErrorCodes } from '@varve/core'
import { azureError, isConditionFailed, isNotFound, statusOf } from './azure-errors.js'
import type { AzureLocation, AzureOptions } from './azure-options.js'

/** Blocks of a streamed upload and how many go up at once (the SDK holds up to both multiplied). */
const STREAM_BLOCK = 8 * 1024 * 1024
const STREAM_CONCURRENCY = 4

/**
 * The Bucket contract on Azure Blob Storage (decision 0020), block blobs under
 * `az://<account>/<container>/<prefix>`: `create` is `If-None-Match: *` (Azure answers 409
 * BlobAlreadyExists or 412), `update` is `If-Match: <etag>`. A byte array goes up in one Put Blob
 * request; a stream as staged blocks committed by one Put Block List, which checks the condition, so
 * a reader sees all of the object or none of it.
 */
export class AzureBucket implements Bucket {
  readonly url: string
  readonly container: ContainerClient
  readonly prefix: string
  readonly #encryptionScope: string | undefined

  constructor(location: AzureLocation, container: ContainerClient, options: Pick<AzureOptions, 'encryptionScope'> = {}) {
    this.container = container
    this.prefix = location.prefix
    this.url = `az://${location.account}/${location.container}/${location.prefix}`
    this.#encryptionScope = options.encryptionScope
  }

  /** A client for `az://` locations from the options and the environment (see AzureOptions). */
  static async open(location: AzureLocation, options: AzureOptions = {}): Promise<AzureBucket> {
    const service = await serviceClient(location.account, options)
    return new AzureBucket(location, service.getContainerClient(location.container), options)
  }

  #blob(key: string) {
    return this.container.getBlockBlobClient(this.prefix + key)
  }

  #fail(err: unknown, operation: string, key: string) {
    return azureError(err, operation, this.url + key)
  }

  async put(key: string, body: ByteSource, mode: PutMode = 'overwrite', options: BucketPutOptions = {}): Promise<string | undefined> {
    const conditions = mode === 'create' ? { ifNoneMatch: '*' } : typeof mode === 'object' ? { ifMatch: mode.update } : {}
    const common = {
      conditions,
      ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
      ...(this.#encryptionScope ? { encryptionScope: this.#encryptionScope } : {}),
    }
    const blob = this.#blob(key)
    try {
      const r =
        body instanceof Uint8Array
          ? await blob.upload(body, body.byteLength, common)
          : await blob.uploadStream(Readable.from(body, { objectMode: false }), STREAM_BLOCK, STREAM_CONCURRENCY, common)
      return r.etag ?? ''
    } catch (err) {
      if (mode !== 'overwrite' && (isConditionFailed(err) || (typeof mode === 'object' && isNotFound(err)))) return undefined
      throw this.#fail(err, 'put', key)
    }
  }

  async get(key: string, options: BucketGetOptions = {}): Promise<BucketRead | undefined> {
    const [start, end] = options.range ?? [0, Infinity]
    const conditions = options.ifVersion ? { ifMatch: options.ifVersion } : {}
    if (options.range && end <= start) return emptyRead(this, key, options.ifVersion)
    try {
      const r = await this.#blob(key).download(start, Number.isFinite(end) ? end - start : undefined, { conditions })
      return { bytes: await readAll(r.readableStreamBody!), version: r.etag ?? '' }
    } catch (err) {
      if (isNotFound(err) || (options.ifVersion && statusOf(err) === 412)) return undefined
      if (statusOf(err) === 416) {
        return emptyRead(this, key) // start past the end: no bytes
      }
      throw this.#fail(err, 'get', key)
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const r = await this.#blob(key).download()
      return r.readableStreamBody as unknown as AsyncIterable<Uint8Array>
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw this.#fail(err, 'get', key)
    }
  }

  async head(key: string): Promise<BucketObject | undefined> {
    try {
      const p = await this.#blob(key).getProperties()
      return { key, size: p.contentLength ?? 0, version: p.etag ?? '', lastModified: p.lastModified?.getTime() ?? 0 }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw this.#fail(err, 'head', key)
    }
  }

  async listPage(prefix: string, options: ListPageOptions = {}): Promise<ListPage> {
    const settings = { ...(options.token ? { continuationToken: options.token } : {}), maxPageSize: options.maxKeys ?? 5000 }
    const full = this.prefix + prefix
    const cut = this.prefix.length
    try {
      const pages = options.delimiter
        ? this.container.listBlobsByHierarchy(options.delimiter, { prefix: full }).byPage(settings)
        : this.container.listBlobsFlat({ prefix: full }).byPage(settings)
      const { value } = await pages.next()
      const segment = value?.segment as
        | { blobItems?: { name: string; properties: { contentLength?: number; etag?: string; lastModified?: Date } }[]; blobPrefixes?: { name: string }[] }
        | undefined
      return {
        objects: (segment?.blobItems ?? []).map((b) => ({
          key: b.name.slice(cut),
          size: b.properties.contentLength ?? 0,
          version: quoted(b.properties.etag ?? ''), // listings give ETags without the quotes headers have
          lastModified: b.properties.lastModified?.getTime() ?? 0,
        })),
        prefixes: (segment?.blobPrefixes ?? []).map((p) => p.name.slice(cut)),
        next: value?.continuationToken || undefined,
      }
    } catch (err) {
      throw this.#fail(err, 'list', prefix)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#blob(key).deleteIfExists()
    } catch (err) {
      throw this.#fail(err, 'delete', key)
    }
  }
}

async function serviceClient(account: string, options: AzureOptions): Promise<BlobServiceClient> {
  const retryOptions = { maxTries: options.maxAttempts ?? 6 }
  const connectionString = options.connectionString ?? process.env.AZURE_STORAGE_CONNECTION_STRING
  if (connectionString) {
    const service = BlobServiceClient.fromConnectionString(connectionString, { retryOptions })
    if (service.accountName !== account)
      throw new VarveError(
        ErrorCodes.INVALID_ARGUMENT,
        `the Azure connection string is for account ${service.accountName}, not ${account} (the account in az://${account}/...)`,
        { details: { account, connectionStringAccount: service.accountName } },
      )
    return service
  }
  const endpoint = (options.endpoint ?? process.env.VARVE_AZURE_ENDPOINT ?? `https://${account}.blob.core.windows.net`).replace(/\/+$/, '')
  const key = options.accountKey ?? process.env.AZURE_STORAGE_KEY
  if (key) return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key), { retryOptions })
  const sas = options.sasToken ?? process.env.AZURE_STORAGE_SAS_TOKEN
  if (sas) return new BlobServiceClient(`${endpoint}?${sas.replace(/^\?/, '')}`, undefined, { retryOptions })
  // The SDK's usual chain (typed loosely: @azure/identity is optional, its TokenCredential is accepted here) (managed identity, environment, Azure CLI), from @azure/identity when installed.
  const identity = (await import('@azure/identity' as string).catch(() => undefined)) as
    | { DefaultAzureCredential: new () => StorageSharedKeyCredential }
    | undefined
  if (!identity)
    throw new VarveError(
      ErrorCodes.PERMISSION_DENIED,
      `no Azure credentials for az://${account}: set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or install @azure/identity for DefaultAzureCredential`,
      { details: { account } },
    )
  return new BlobServiceClient(endpoint, new identity.DefaultAzureCredential(), { retryOptions })
}

const quoted = (etag: string) => (etag && !etag.startsWith('"') ? `"${etag}"` : etag)

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const parts: Buffer[] = []
  for await (const p of stream as AsyncIterable<Buffer>) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
