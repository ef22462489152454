import { GetBucketVersioningCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { importedObjectChanged, importedObjectMissing, type ExternalLocator, type ExternalSource, type SourceListOptions, type SourceObject } from '@varve/core'
import { listInParallel } from './s3-parallel-list.js'
import { isNotFound, isPreconditionFailed, s3Error } from './s3-errors.js'
import { bareEtag } from './s3-list-xml.js'

/**
 * An S3 bucket (or a prefix of it) Varve imports from (decision 0017). A versioned bucket is listed
 * with its versions, so each entry pins its version id and reads always give the imported bytes;
 * otherwise entries pin the ETag and reads send `If-Match`.
 */
export class S3Source implements ExternalSource {
  #versioned: Promise<boolean> | undefined

  constructor(
    readonly name: string,
    readonly url: string,
    readonly bucket: string,
    private readonly client: S3Client,
  ) {}

  /** Whether the bucket keeps versions (asked once; a bucket whose versioning is suspended pins ETags). */
  versioned(): Promise<boolean> {
    this.#versioned ??= this.client
      .send(new GetBucketVersioningCommand({ Bucket: this.bucket }))
      .then((r) => r.Status === 'Enabled')
      .catch((err) => {
        // A key allowed to list and read but not to ask about versioning pins ETags (If-Match), which
        // is as safe; any other failure is reported (and asked again next time).
        if (s3Error(err, 'GetBucketVersioning', this.bucket, '').code === 'PERMISSION_DENIED') return false
        this.#versioned = undefined
        throw s3Error(err, 'GetBucketVersioning', this.bucket, '')
      })
    return this.#versioned
  }

  async *list(prefix: string, options: SourceListOptions = {}): AsyncIterable<readonly SourceObject[]> {
    const versioned = await this.versioned()
    yield* listInParallel(this.client, this.bucket, prefix, {
      versioned,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.startAfter !== undefined ? { startAfter: options.startAfter } : {}),
    })
  }

  async head(key: string): Promise<SourceObject | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
      return {
        key,
        size: r.ContentLength ?? 0,
        etag: bareEtag(r.ETag),
        lastModified: r.LastModified ? r.LastModified.getTime() : 0,
        ...(r.VersionId && r.VersionId !== 'null' && (await this.versioned()) ? { versionId: r.VersionId } : {}),
      }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw s3Error(err, 'HeadObject', this.bucket, key)
    }
  }

  async check(at: ExternalLocator): Promise<'ok' | 'changed' | 'missing'> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: at.key, ...this.#pin(at) }))
      return 'ok'
    } catch (err) {
      if (isPreconditionFailed(err)) return 'changed'
      if (isNotFound(err) || isNoSuchVersion(err)) return 'missing'
      throw s3Error(err, 'HeadObject', this.bucket, at.key)
    }
  }

  async read(at: ExternalLocator, range?: { readonly start: number; readonly end: number }): Promise<Uint8Array> {
    const body = await this.#get(at, range)
    return body.transformToByteArray()
  }

  async stream(at: ExternalLocator, range?: { readonly start: number; readonly end: number }): Promise<AsyncIterable<Uint8Array>> {
    const body = await this.#get(at, range)
    return body as unknown as AsyncIterable<Uint8Array>
  }

  /** A read pinned to the locator's identity: its version where there is one, else `If-Match` on its ETag. */
  #pin(at: ExternalLocator): { VersionId?: string; IfMatch?: string } {
    if (at.versionId) return { VersionId: at.versionId }
    return { IfMatch: `"${at.etag}"` }
  }

  async #get(at: ExternalLocator, range: { readonly start: number; readonly end: number } | undefined) {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: at.key, ...this.#pin(at), ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }),
      )
      // Some S3-compatible servers ignore If-Match on GET: the ETag they answer with is checked too.
      if (!at.versionId && at.etag && r.ETag && bareEtag(r.ETag) !== at.etag) {
        await r.Body?.transformToByteArray().catch(() => {})
        throw importedObjectChanged(at, undefined)
      }
      return r.Body!
    } catch (err) {
      if (isPreconditionFailed(err)) throw importedObjectChanged(at, undefined)
      if (isNotFound(err) || isNoSuchVersion(err)) throw importedObjectMissing(at, undefined)
      throw s3Error(err, 'GetObject', this.bucket, at.key)
    }
  }
}

const isNoSuchVersion = (err: unknown) => (err as { name?: string })?.name === 'NoSuchVersion' || (err as { Code?: string })?.Code === 'NoSuchVersion'
