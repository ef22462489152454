import type { RepoContext } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { readFile, stat } from 'node:fs/promises'
import { MAX_MANIFEST, destinationBucketOf, listInventory, parseInventoryManifest, type InventoryManifest } from '../sources/inventory-listing.js'
import type { ExternalSource, SourceObject } from '../sources/external-source.js'
import { splitSourceSpec } from '../sources/source-schemes.js'
import { validatePath, validatePrefix } from '../util/paths.js'
import type { ImportOptions } from './import-options.js'

// Where an import's objects come from (a LIST walk or an inventory report) and where they go on the branch.

export interface Plan {
  readonly source: ExternalSource
  /** Full key prefix listed ('' = the whole bucket). */
  readonly keyPrefix: string
  /** One object: its key, imported as `dest`. */
  readonly single?: SourceObject
  /** Destination folder ('' or ending in '/'), or the file path for a single object. */
  readonly dest: string
  /** The source's objects under a prefix, in key order, a page at a time: a LIST walk or an inventory report. */
  readonly list: ExternalSource['list']
}

/** Where the objects come from and where they go; refuses a source inside the repository's own storage. */
export async function planImport(ctx: RepoContext, options: ImportOptions): Promise<Plan> {
  const { source: name, rest: named } = splitSourceSpec(options.source)
  const rest = named + subPrefix(named, options.prefix)
  const source = await ctx.sources(name)
  const base = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/?(.*)$/is.exec(source.url)?.[1] ?? ''
  const keyPrefix = base + rest
  if (rest !== '') rest.endsWith('/') ? validatePrefix(rest) : validatePath(rest, 'source key')
  refuseOwnStorage(ctx.location, source.url, keyPrefix)
  const path = options.path ?? ''
  if (typeof path !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'path must be a string')
  if (options.inventory !== undefined) {
    const { manifest, files } = await openInventory(ctx, options.inventory, source)
    const under = keyPrefix === '' || keyPrefix.endsWith('/') ? keyPrefix : `${keyPrefix}/`
    return { source, keyPrefix: under, dest: folder(path), list: (prefix, o) => listInventory(manifest, files, prefix, o) }
  }
  const list: ExternalSource['list'] = (prefix, o) => source.list(prefix, o)
  // `a/b` (no trailing slash): exactly that object when there is one, else the folder `a/b/`.
  if (keyPrefix !== '' && !keyPrefix.endsWith('/')) {
    const single = await source.head(keyPrefix)
    if (single) {
      const dest = path === '' || path.endsWith('/') ? path + keyPrefix.slice(keyPrefix.lastIndexOf('/') + 1) : path
      return { source, keyPrefix, single, dest: validatePath(dest), list }
    }
    return { source, keyPrefix: `${keyPrefix}/`, dest: folder(path), list }
  }
  return { source, keyPrefix, dest: folder(path), list }
}

/** An inventory manifest (a URL or a local file) for `source`'s bucket, and where its report files are. */
async function openInventory(ctx: RepoContext, spec: string, source: ExternalSource): Promise<{ manifest: InventoryManifest; files: ExternalSource }> {
  if (typeof spec !== 'string' || spec === '') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'inventory is the URL or file of a manifest.json')
  const url = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/(.+)$/is.exec(spec)
  let bytes: Uint8Array
  let at: ExternalSource | undefined
  if (url) {
    at = await ctx.sources(url[1]!)
    const o = await at.head(url[2]!)
    if (!o) throw new VarveError(ErrorCodes.NOT_FOUND, `inventory manifest ${spec} not found`, { details: { inventory: spec } })
    tooLarge(o.size, spec)
    bytes = await at.read({ source: at.name, key: url[2]!, etag: o.etag, ...(o.versionId ? { versionId: o.versionId } : {}) })
  } else if (spec.includes('://')) {
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `inventory ${spec} is not a manifest URL (s3://bucket/key/manifest.json)`, {
      details: { inventory: spec },
    })
  } else {
    bytes = await stat(spec)
      .then((st) => {
        tooLarge(st.size, spec)
        return readFile(spec)
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (err instanceof VarveError) throw err
        throw new VarveError(
          err.code === 'ENOENT' ? ErrorCodes.NOT_FOUND : ErrorCodes.INVALID_ARGUMENT,
          `cannot read the inventory manifest ${spec}: ${err.code ?? err.message}`,
          {
            details: { inventory: spec },
          },
        )
      })
  }
  const manifest = parseInventoryManifest(bytes, spec)
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)/is.exec(source.url)
  if (!scheme || scheme[2] !== manifest.sourceBucket)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `the inventory ${spec} lists bucket ${manifest.sourceBucket}, not the source ${source.url}`, {
      details: { inventory: spec, sourceBucket: manifest.sourceBucket, source: source.url },
    })
  const filesUrl = `${scheme[1]}://${destinationBucketOf(manifest)}`
  const files = at && at.name === filesUrl ? at : await ctx.sources(filesUrl)
  return { manifest, files }
}

function subPrefix(named: string, prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'prefix must be a string')
  if (named !== '' && !named.endsWith('/'))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a prefix goes under a folder of the source: end ${named} with / or name it in prefix alone`, {
      details: { prefix },
    })
  return prefix
}

function folder(path: string): string {
  if (path === '') return ''
  return validatePrefix(path.endsWith('/') ? path : `${path}/`)
}

function refuseOwnStorage(location: string, sourceUrl: string, keyPrefix: string): void {
  const repo = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/?(.*)$/is.exec(location)
  const src = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)/is.exec(sourceUrl)
  if (!repo || !src || repo[1]!.toLowerCase() !== src[1]!.toLowerCase() || repo[2] !== src[2]) return
  const own = repo[3] === '' || repo[3]!.endsWith('/') ? repo[3]! : `${repo[3]}/`
  if (own.startsWith(keyPrefix) || keyPrefix.startsWith(own))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `cannot import ${sourceUrl} ${keyPrefix}: it overlaps the repository's own storage at ${location}`, {
      details: { source: sourceUrl, prefix: keyPrefix, location },
    })
}

/** Refused before it is read: a manifest is small (see MAX_MANIFEST). */
function tooLarge(size: number, spec: string): void {
  if (size > MAX_MANIFEST)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${spec} is larger than ${MAX_MANIFEST} bytes: not an S3 Inventory manifest`, {
      details: { inventory: spec },
    })
}
