import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import {
  VarveError,
  ErrorCodes,
  type BlockPutOptions,
  type BlockStore,
  type ByteSource,
  type NativeMultipart,
  type ObjectInfo,
  type RenameOptions,
  type StoredPart,
} from '@varve/core'
import { createS3Client } from './s3-client.js'
import { copySourceEncryption, readEncryption, type S3Encryption, writeEncryption } from './s3-encryption.js'
import { isNotFound, isPreconditionFailed, s3Error } from './s3-errors.js'
import type { S3Location, S3Options } from './s3-options.js'

export interface S3BlockStoreOptions extends S3Options, S3Location {
  /** Part size of multipart uploads (default 16 MiB; S3's minimum is 5 MiB). */
  readonly partSize?: number
  /** Parts uploaded at once (default 4). */
  readonly queueSize?: number
}

const MAX_SINGLE_COPY = 5 * 1024 ** 3
const COPY_PART = 1024 ** 3

/**
 * Objects under `s3://bucket/prefix`. Streams go up as multipart uploads with parallel parts; a failed
 * upload is aborted, so no partial object ever becomes visible. Put-if-absent is `If-None-Match: *`.
 */
export class S3BlockStore implements BlockStore {
  /** S3 has no rename: `rename` is a server-side copy, so the engine avoids it for large uploads. */
  readonly renameCopies = true
  /** Every read is a new response body (see BlockStore.ownedReads). */
  readonly ownedReads = true
  readonly client: S3Client
  readonly bucket: string
  readonly prefix: string
  readonly #partSize: number
  readonly #queueSize: number
  readonly #ownsClient: boolean
  readonly #encryption: S3Encryption | undefined
  /** SSE-C: every read sends the key; writes and copies carry their own parameters. */
  readonly #read: Record<string, string>

  constructor(options: S3BlockStoreOptions) {
    this.client = createS3Client(options)
    this.#encryption = options.encryption
    this.#read = readEncryption(options.encryption)
    this.#ownsClient = !options.client
    this.bucket = options.bucket
    this.prefix = options.prefix
    this.#partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 16 * 1024 * 1024)
    this.#queueSize = options.queueSize ?? 4
  }

  #key(key: string): string {
    return this.prefix + key
  }

  async #call<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw s3Error(err, operation, this.bucket, this.#key(key))
    }
  }

  async put(key: string, data: ByteSource, options: BlockPutOptions = {}): Promise<boolean> {
    const Key = this.#key(key)
    const condition = { ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}), ...writeEncryption(this.#encryption) }
    try {
      if (data instanceof Uint8Array) {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.byteLength, ...condition }))
      } else {
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key, Body: Readable.from(data, { objectMode: false }), ...condition },
          partSize: this.#partSize,
          queueSize: this.#queueSize,
          leavePartsOnError: false, // abort the multipart upload: nothing partial stays behind
        })
        await upload.done()
      }
      return true
    } catch (err) {
      if (options.ifAbsent && isPreconditionFailed(err)) return false
      throw s3Error(err, 'put', this.bucket, Key)
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key), ...this.#read }))
      return await r.Body!.transformToByteArray()
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw s3Error(err, 'get', this.bucket, this.#key(key))
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    if (end <= start) return (await this.head(key)) ? new Uint8Array(0) : undefined
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key), Range: `bytes=${start}-${end - 1}`, ...this.#read }))
      return await r.Body!.transformToByteArray()
    } catch (err) {
      if (isNotFound(err)) return undefined
      if ((err as { name?: string }).name === 'InvalidRange') return new Uint8Array(0) // start beyond the end
      throw s3Error(err, 'get', this.bucket, this.#key(key))
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key), ...this.#read }))
      return r.Body as Readable
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw s3Error(err, 'get', this.bucket, this.#key(key))
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(key), ...this.#read }))
      return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified?.getTime() ?? 0 }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw s3Error(err, 'head', this.bucket, this.#key(key))
    }
  }

  async delete(key: string): Promise<void> {
    await this.#call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(key) })))
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => ({ Key: this.#key(k) }))
      const r = await this.#call('delete', keys[i]!, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } })),
      )
      const failed = r.Errors?.[0]
      if (failed)
        throw s3Error(
          Object.assign(new Error(failed.Message ?? 'delete failed'), { name: failed.Code ?? 'DeleteFailed' }),
          'delete',
          this.bucket,
          failed.Key ?? '',
        )
    }
  }

  /** S3 has no touch: an in-place copy with replaced metadata gives the object a new LastModified. */
  async touch(key: string): Promise<boolean> {
    const source = `${this.bucket}/${encodeURIComponent(this.#key(key)).replace(/%2F/g, '/')}`
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.#key(key),
          CopySource: source,
          MetadataDirective: 'REPLACE',
          Metadata: { 'varve-touched': String(Date.now()) },
          ...writeEncryption(this.#encryption),
          ...copySourceEncryption(this.#encryption),
        }),
      )
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw s3Error(err, 'touch', this.bucket, this.#key(key))
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined
    do {
      const page = await this.#call('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.#key(prefix), ContinuationToken: token })),
      )
      for (const o of page.Contents ?? []) yield { key: o.Key!.slice(this.prefix.length), size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0 }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  /** Server-side copy (multipart above 5 GiB), then delete: S3 has no rename. */
  async rename(from: string, to: string, options: RenameOptions = {}): Promise<void> {
    const size = options.size ?? (await this.head(from))?.size
    if (size === undefined)
      throw s3Error(Object.assign(new Error('source of rename is missing'), { name: 'NoSuchKey' }), 'rename', this.bucket, this.#key(from))
    const source = `${this.bucket}/${encodeURIComponent(this.#key(from)).replace(/%2F/g, '/')}`
    if (size <= MAX_SINGLE_COPY)
      await this.#call('copy', to, () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: this.#key(to),
            CopySource: source,
            ...writeEncryption(this.#encryption),
            ...copySourceEncryption(this.#encryption),
          }),
        ),
      )
    else await this.#multipartCopy(source, to, size)
    await this.delete(from)
  }

  async #multipartCopy(source: string, to: string, size: number): Promise<void> {
    const Key = this.#key(to)
    const { UploadId } = await this.#call('copy', to, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ...writeEncryption(this.#encryption) })),
    )
    try {
      const parts: { ETag: string; PartNumber: number }[] = []
      for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
        const end = Math.min(size, start + COPY_PART) - 1
        const r = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            PartNumber: n,
            CopySource: source,
            CopySourceRange: `bytes=${start}-${end}`,
            ...this.#read,
            ...copySourceEncryption(this.#encryption),
          }),
        )
        parts.push({ ETag: r.CopyPartResult!.ETag!, PartNumber: n })
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts }, ...this.#read }))
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => {})
      throw s3Error(err, 'copy', this.bucket, Key)
    }
  }

  /** A presigned GET of the object (with a signed Range header for a part of it). */
  async presignGet(key: string, options: { readonly expiresSeconds: number; readonly range?: readonly [number, number] }): Promise<string> {
    if (this.#encryption?.type === 'sse-c')
      throw new VarveError(
        ErrorCodes.INVALID_CONFIG,
        'objects encrypted with SSE-C cannot be read through presigned links (they need the key): serve reads by proxy',
        {
          details: { encryption: 'sse-c' },
        },
      )
    const range = options.range ? { Range: `bytes=${options.range[0]}-${options.range[1] - 1}` } : {}
    return this.#call('presign', key, () =>
      getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key), ...range }), {
        expiresIn: options.expiresSeconds,
        ...(options.range ? { signableHeaders: new Set(['range']) } : {}),
      }),
    )
  }

  /** S3's own multipart uploads, so a gateway's instances share an upload's parts (NativeMultipart). */
  readonly multipart: NativeMultipart = {
    create: async (key) => {
      const r = await this.#call('upload', key, () =>
        this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.#key(key), ...writeEncryption(this.#encryption) })),
      )
      return r.UploadId!
    },
    uploadPart: async (key, UploadId, n, data, size) => {
      // The SDK pipes a stream body into its request, and a pipe does not pass on the source's
      // failure (a client that went away, a body longer than its length): the request would wait
      // for bytes that never come. The source's failure aborts the request and is what is thrown.
      const abort = new AbortController()
      let failure: unknown
      let Body: Uint8Array | Readable = data as Uint8Array
      if (!(data instanceof Uint8Array)) {
        Body = Readable.from(data, { objectMode: false })
        Body.on('error', (err) => {
          failure = err
          abort.abort()
        })
      }
      try {
        const r = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: this.#key(key), UploadId, PartNumber: n, Body, ContentLength: size, ...this.#read }),
          {
            abortSignal: abort.signal,
          },
        )
        return r.ETag!.replace(/"/g, '')
      } catch (err) {
        if (failure !== undefined) throw failure
        throw s3Error(err, 'upload', this.bucket, this.#key(key))
      }
    },
    listParts: async (key, UploadId) => {
      const parts: StoredPart[] = []
      let marker: string | undefined
      try {
        for (;;) {
          const r = await this.client.send(
            new ListPartsCommand({ Bucket: this.bucket, Key: this.#key(key), UploadId, ...(marker ? { PartNumberMarker: marker } : {}) }),
          )
          for (const p of r.Parts ?? [])
            parts.push({ n: p.PartNumber!, etag: p.ETag!.replace(/"/g, ''), size: p.Size ?? 0, lastModified: p.LastModified?.getTime() ?? 0 })
          if (!r.IsTruncated || !r.NextPartNumberMarker) return parts
          marker = String(r.NextPartNumberMarker)
        }
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchUpload' || isNotFound(err)) return undefined
        throw s3Error(err, 'upload', this.bucket, this.#key(key))
      }
    },
    complete: async (key, UploadId, parts) => {
      await this.#call('upload', key, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.#key(key),
            UploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: `"${p.etag}"` })) },
            ...this.#read,
          }),
        ),
      )
    },
    abort: async (key, UploadId) => {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.#key(key), UploadId }))
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchUpload' || isNotFound(err)) return
        throw s3Error(err, 'upload', this.bucket, this.#key(key))
      }
    },
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.client.destroy()
  }
}
