import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3'
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
    // A whole prefix (the import's case) is listed by many listers at once; a resumed listing, which
    // starts after a key, walks on from there.
    if (!options.startAfter) {
      yield* listInParallel(this.client, this.bucket, prefix, options.signal, versioned)
      return
    }
    if (versioned) {
      yield* this.#listVersions(prefix, options)
      return
    }
    let token: string | undefined
    // One page is read ahead while the caller works on the current one: listing is the import's limit.
    const page = (t: string | undefined) =>
      this.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: 1000,
            ...(t ? { ContinuationToken: t } : options.startAfter ? { StartAfter: options.startAfter } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        )
        .catch((err) => Promise.reject(s3Error(err, 'ListObjectsV2', this.bucket, prefix)))
    let next: Promise<ListObjectsV2CommandOutput> | undefined = page(undefined)
    while (next) {
      const r: ListObjectsV2CommandOutput = await next
      token = r.IsTruncated ? r.NextContinuationToken : undefined
      next = token ? page(token) : undefined
      next?.catch(() => {}) // surfaces when awaited
      const objects: SourceObject[] = (r.Contents ?? []).map((o) => ({
        key: o.Key!,
        size: o.Size ?? 0,
        etag: bareEtag(o.ETag),
        lastModified: o.LastModified ? o.LastModified.getTime() : 0,
      }))
      if (objects.length) yield objects
    }
  }

  /** The current version of each key (delete markers hide a key), in key order. */
  async *#listVersions(prefix: string, options: SourceListOptions): AsyncIterable<readonly SourceObject[]> {
    let keyMarker: string | undefined = options.startAfter
    let versionMarker: string | undefined
    for (;;) {
      const r = await this.client
        .send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: 1000,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        )
        .catch((err) => Promise.reject(s3Error(err, 'ListObjectVersions', this.bucket, prefix)))
      const objects: SourceObject[] = (r.Versions ?? [])
        .filter((v) => v.IsLatest)
        .map((v) => ({
          key: v.Key!,
          size: v.Size ?? 0,
          etag: bareEtag(v.ETag),
          lastModified: v.LastModified ? v.LastModified.getTime() : 0,
          ...(v.VersionId && v.VersionId !== 'null' ? { versionId: v.VersionId } : {}),
        }))
      if (objects.length) yield objects
      if (!r.IsTruncated) return
      keyMarker = r.NextKeyMarker
      versionMarker = r.NextVersionIdMarker
    }
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
