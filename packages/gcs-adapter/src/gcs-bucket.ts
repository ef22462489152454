import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Bucket as GcsSdkBucket, type File, IdempotencyStrategy, Storage } from '@google-cloud/storage'
import type { Bucket, BucketObject, BucketPutOptions, BucketRead, BucketGetOptions, ByteSource, ListPage, ListPageOptions, PutMode } from '@varve/core'
import { emptyRead } from '@varve/core'
import { gcsError, isNotFound, isPreconditionFailed, statusOf } from './gcs-errors.js'
import type { GcsLocation, GcsOptions } from './gcs-options.js'

/**
 * The Bucket contract on Google Cloud Storage (decision 0020), under `gs://<bucket>/<prefix>`. GCS's
 * ETags do not guard writes: generations do. `create` is `ifGenerationMatch=0`, `update` is
 * `ifGenerationMatch=<generation>`, and an object's version is its generation, read from the same
 * response as its bytes. A byte array goes up in one request; a stream as a resumable upload, which
 * becomes visible whole when it completes, with the same precondition.
 *
 * GCS allows about one write per second to one object name: a branch's object is rewritten by each
 * commit, so a branch committed to more often than that is throttled (429, retried with backoff).
 */
export class GcsBucket implements Bucket {
  readonly url: string
  readonly bucket: GcsSdkBucket
  readonly prefix: string
  readonly #kmsKeyName: string | undefined

  constructor(location: GcsLocation, bucket: GcsSdkBucket, options: Pick<GcsOptions, 'kmsKeyName'> = {}) {
    this.bucket = bucket
    this.prefix = location.prefix
    this.url = `gs://${location.bucket}/${location.prefix}`
    this.#kmsKeyName = options.kmsKeyName
  }

  /** A client for `gs://` locations from the options and the environment (see GcsOptions). */
  static open(location: GcsLocation, options: GcsOptions = {}): GcsBucket {
    return new GcsBucket(location, storageClient(options).bucket(location.bucket), options)
  }

  #file(key: string, generation?: string): File {
    return this.bucket.file(this.prefix + key, {
      ...(generation ? { generation: Number(generation) } : {}),
      ...(this.#kmsKeyName ? { kmsKeyName: this.#kmsKeyName } : {}),
    })
  }

  #fail(err: unknown, operation: string, key: string) {
    return gcsError(err, operation, this.url + key)
  }

  async put(key: string, body: ByteSource, mode: PutMode = 'overwrite', options: BucketPutOptions = {}): Promise<string | undefined> {
    const preconditionOpts = mode === 'create' ? { ifGenerationMatch: 0 } : typeof mode === 'object' ? { ifGenerationMatch: Number(mode.update) } : undefined
    const file = this.#file(key)
    const common = { ...(preconditionOpts ? { preconditionOpts } : {}), ...(options.contentType ? { contentType: options.contentType } : {}) }
    try {
      if (body instanceof Uint8Array) await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), { resumable: false, ...common })
      else await pipeline(Readable.from(body, { objectMode: false }), file.createWriteStream({ resumable: true, ...common }))
      return String(file.metadata.generation ?? '')
    } catch (err) {
      if (preconditionOpts && (isPreconditionFailed(err) || (typeof mode === 'object' && isNotFound(err)))) return undefined
      throw this.#fail(err, 'put', key)
    }
  }

  /** Opens a read; resolves once the response has arrived (with its generation), or undefined on 404. */
  async #open(file: File, range?: { start: number; end: number }): Promise<{ stream: Readable; generation: string } | 'past-end' | undefined> {
    const stream = file.createReadStream(range ?? {})
    // The SDK sends the request on the first read: a 'readable' listener asks for one (nothing is lost,
    // the chunks wait in the stream's buffer) and is removed once the response is in.
    const kick = () => {}
    stream.on('readable', kick)
    return new Promise((resolve, reject) => {
      stream.once('response', (r: { statusCode?: number; headers?: Record<string, string | undefined> }) => {
        if ((r.statusCode ?? 200) >= 400) return // the stream's 'error' follows with the SDK's error
        stream.off('readable', kick)
        resolve({ stream, generation: r.headers?.['x-goog-generation'] ?? '' })
      })
      stream.once('error', (err) => {
        if (isNotFound(err)) resolve(undefined)
        else if (statusOf(err) === 416) resolve('past-end')
        else reject(err)
      })
    })
  }

  async get(key: string, options: BucketGetOptions = {}): Promise<BucketRead | undefined> {
    const [start, end] = options.range ?? [0, Infinity]
    if (options.range && end <= start) return emptyRead(this, key, options.ifVersion)
    try {
      const range = options.range ? { start, end: Number.isFinite(end) ? end - 1 : undefined } : undefined
      // A generation-pinned read gives exactly that version's bytes, or 404 when it is no longer there.
      const r = await this.#open(this.#file(key, options.ifVersion), range as { start: number; end: number } | undefined)
      if (!r) return undefined
      if (r === 'past-end') return emptyRead(this, key)
      const parts: Buffer[] = []
      for await (const p of r.stream) parts.push(p as Buffer)
      return { bytes: new Uint8Array(Buffer.concat(parts)), version: r.generation }
    } catch (err) {
      if (options.ifVersion && (isNotFound(err) || isPreconditionFailed(err))) return undefined
      throw this.#fail(err, 'get', key)
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const r = await this.#open(this.#file(key))
      return r === 'past-end' ? (async function* () {})() : r?.stream
    } catch (err) {
      throw this.#fail(err, 'get', key)
    }
  }

  async head(key: string): Promise<BucketObject | undefined> {
    try {
      const [m] = await this.#file(key).getMetadata()
      return { key, size: Number(m.size ?? 0), version: String(m.generation ?? ''), lastModified: m.updated ? Date.parse(m.updated) : 0 }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw this.#fail(err, 'head', key)
    }
  }

  async listPage(prefix: string, options: ListPageOptions = {}): Promise<ListPage> {
    const cut = this.prefix.length
    try {
      const [files, next, response] = await this.bucket.getFiles({
        prefix: this.prefix + prefix,
        autoPaginate: false,
        maxResults: options.maxKeys ?? 1000,
        ...(options.delimiter ? { delimiter: options.delimiter } : {}),
        ...(options.token ? { pageToken: options.token } : {}),
      })
      return {
        objects: files.map((f) => ({
          key: f.name.slice(cut),
          size: Number(f.metadata.size ?? 0),
          version: String(f.metadata.generation ?? ''),
          lastModified: f.metadata.updated ? Date.parse(f.metadata.updated) : 0,
        })),
        prefixes: ((response as { prefixes?: string[] } | undefined)?.prefixes ?? []).map((p) => p.slice(cut)),
        next: (next as { pageToken?: string } | null)?.pageToken || undefined,
      }
    } catch (err) {
      throw this.#fail(err, 'list', prefix)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#file(key).delete({ ignoreNotFound: true })
    } catch (err) {
      throw this.#fail(err, 'delete', key)
    }
  }
}

function storageClient(options: GcsOptions): Storage {
  const emulator = options.endpoint ?? process.env.VARVE_GCS_ENDPOINT ?? process.env.STORAGE_EMULATOR_HOST
  const retryOptions = {
    maxRetries: (options.maxAttempts ?? 6) - 1,
    // Every write Varve makes may be repeated: data is content-addressed, staging batches have unique
    // names, and a conditional write that meets itself is recognised by the ref protocol.
    idempotencyStrategy: IdempotencyStrategy.RetryAlways,
  }
  if (!emulator) return new Storage({ retryOptions, ...(options.projectId ? { projectId: options.projectId } : {}) })
  // The SDK takes STORAGE_EMULATOR_HOST verbatim as its JSON API base but adds /upload/storage/v1 to it
  // for uploads, so one value cannot serve both: give it the emulator's origin as apiEndpoint instead.
  const apiEndpoint = (/^https?:\/\//.test(emulator) ? emulator : `http://${emulator}`).replace(/\/+$/, '').replace(/\/storage\/v1$/, '')
  const saved = process.env.STORAGE_EMULATOR_HOST
  delete process.env.STORAGE_EMULATOR_HOST
  try {
    return new Storage({ apiEndpoint, projectId: options.projectId ?? 'varve', retryOptions })
  } finally {
    if (saved !== undefined) process.env.STORAGE_EMULATOR_HOST = saved
  }
}
