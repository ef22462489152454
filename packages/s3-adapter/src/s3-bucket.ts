import { Readable } from 'node:stream'
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { Bucket, BucketObject, BucketPutOptions, BucketRead, BucketGetOptions, ByteSource, ListPage, ListPageOptions, PutMode } from '@varve/core'
import { emptyRead } from '@varve/core'
import { createS3Client } from './s3-client.js'
import { copySourceEncryption, readEncryption, type S3Encryption, writeEncryption } from './s3-encryption.js'
import { isConditionalConflict, isNotFound, isPreconditionFailed, s3Error } from './s3-errors.js'
import type { S3Location, S3Options } from './s3-options.js'

export type S3BucketOptions = S3Options & S3Location

/**
 * The Bucket contract on S3 and S3-compatible stores (decision 0020). A byte array goes up as one
 * PutObject, never multipart, so a ref object's conditional write is one request; `create` is
 * `If-None-Match: *`, `update` is `If-Match: <etag>`. A lost condition is 412, AWS's 409
 * ConditionalRequestConflict (a concurrent conditional write of the key), or 404 for If-Match on a
 * missing key: all three mean "not written".
 */
export class S3Bucket implements Bucket {
  readonly url: string
  readonly client: S3Client
  readonly name: string
  readonly prefix: string
  readonly #ownsClient: boolean
  readonly #encryption: S3Encryption | undefined

  constructor(options: S3BucketOptions) {
    this.client = createS3Client(options)
    this.#encryption = options.encryption
    this.#ownsClient = !options.client
    this.name = options.bucket
    this.prefix = options.prefix
    this.url = `s3://${options.bucket}/${options.prefix}`
  }

  #fail(err: unknown, operation: string, key: string) {
    return s3Error(err, operation, this.name, this.prefix + key)
  }

  async put(key: string, body: ByteSource, mode: PutMode = 'overwrite', options: BucketPutOptions = {}): Promise<string | undefined> {
    const condition = mode === 'create' ? { IfNoneMatch: '*' } : typeof mode === 'object' ? { IfMatch: mode.update } : {}
    const params = {
      Bucket: this.name,
      Key: this.prefix + key,
      ...condition,
      ...writeEncryption(this.#encryption),
      ...(options.contentType ? { ContentType: options.contentType } : {}),
    }
    try {
      if (body instanceof Uint8Array) {
        const r = await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.byteLength }))
        return r.ETag ?? ''
      }
      const upload = new Upload({ client: this.client, params: { ...params, Body: Readable.from(body, { objectMode: false }) }, leavePartsOnError: false })
      return (await upload.done()).ETag ?? ''
    } catch (err) {
      if (mode !== 'overwrite' && (isPreconditionFailed(err) || isConditionalConflict(err) || (typeof mode === 'object' && isNotFound(err)))) return undefined
      throw this.#fail(err, 'put', key)
    }
  }

  async get(key: string, options: BucketGetOptions = {}): Promise<BucketRead | undefined> {
    const [start, end] = options.range ?? [0, Infinity]
    if (options.range && end <= start) return emptyRead(this, key, options.ifVersion)
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.name,
          Key: this.prefix + key,
          ...(options.range ? { Range: `bytes=${start}-${Number.isFinite(end) ? end - 1 : ''}` } : {}),
          ...(options.ifVersion ? { IfMatch: options.ifVersion } : {}),
          ...readEncryption(this.#encryption),
        }),
      )
      return { bytes: await r.Body!.transformToByteArray(), version: r.ETag ?? '' }
    } catch (err) {
      if (isNotFound(err) || (options.ifVersion && isPreconditionFailed(err))) return undefined
      if ((err as { name?: string }).name === 'InvalidRange') {
        return emptyRead(this, key) // start past the end: no bytes
      }
      throw this.#fail(err, 'get', key)
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: this.prefix + key, ...readEncryption(this.#encryption) }))
      return r.Body as Readable
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw this.#fail(err, 'get', key)
    }
  }

  async head(key: string): Promise<BucketObject | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: this.prefix + key, ...readEncryption(this.#encryption) }))
      return { key, size: r.ContentLength ?? 0, version: r.ETag ?? '', lastModified: r.LastModified?.getTime() ?? 0 }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw this.#fail(err, 'head', key)
    }
  }

  async listPage(prefix: string, options: ListPageOptions = {}): Promise<ListPage> {
    try {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.name,
          Prefix: this.prefix + prefix,
          ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
          ...(options.token ? { ContinuationToken: options.token } : {}),
          ...(options.maxKeys ? { MaxKeys: options.maxKeys } : {}),
        }),
      )
      const cut = this.prefix.length
      return {
        objects: (page.Contents ?? []).map((o) => ({
          key: o.Key!.slice(cut),
          size: o.Size ?? 0,
          version: o.ETag ?? '',
          lastModified: o.LastModified?.getTime() ?? 0,
        })),
        prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(cut)),
        next: page.IsTruncated ? page.NextContinuationToken : undefined,
      }
    } catch (err) {
      throw this.#fail(err, 'list', prefix)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: this.prefix + key }))
    } catch (err) {
      throw this.#fail(err, 'delete', key)
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => ({ Key: this.prefix + k }))
      let r
      try {
        r = await this.client.send(new DeleteObjectsCommand({ Bucket: this.name, Delete: { Objects: batch, Quiet: true } }))
      } catch (err) {
        throw this.#fail(err, 'delete', keys[i]!)
      }
      const failed = r.Errors?.[0]
      if (failed)
        throw s3Error(
          Object.assign(new Error(failed.Message ?? 'delete failed'), { name: failed.Code ?? 'DeleteFailed' }),
          'delete',
          this.name,
          failed.Key ?? '',
        )
    }
  }

  async copy(from: string, to: string): Promise<boolean> {
    const source = `${this.name}/${encodeURIComponent(this.prefix + from).replace(/%2F/g, '/')}`
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.name,
          Key: this.prefix + to,
          CopySource: source,
          ...writeEncryption(this.#encryption),
          ...copySourceEncryption(this.#encryption),
        }),
      )
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw this.#fail(err, 'copy', from)
    }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.client.destroy()
  }
}
