import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { importObjects as importInto, type ImportOptions, type ImportSummary } from '../../ingest/import-objects.js'
import { readNamedSource, SOURCE_SETTING_PREFIX, validateSourceName, type NamedSource } from '../../sources/source-schemes.js'
import { guard } from '../guard.js'

export function importObjects(ctx: RepoContext, branch: string, options: ImportOptions): Promise<ImportSummary> {
  return guard('importObjects', async () => {
    if (!options || typeof options !== 'object' || typeof options.source !== 'string')
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'importObjects needs { source: "s3://bucket/prefix/" or a named source }')
    return importInto(ctx, branch, options)
  })
}

/** Records a named source (its URL and where to reach it; never credentials: they come from the environment at read time). */
export function addSource(ctx: RepoContext, name: string, url: string, options: Omit<NamedSource, 'name' | 'url'> = {}): Promise<NamedSource> {
  return guard('addSource', async () => {
    validateSourceName(name)
    if (typeof url !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.test(url))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a source URL is s3://bucket or s3://bucket/prefix/, not ${JSON.stringify(url)}`)
    // The scheme's adapter is checked when the source is first opened (it may load on demand then).
    const body = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/?/i, '')
    const normalised = url.slice(0, url.length - body.length).replace(/\/$/, '') + (body ? `/${body.replace(/\/*$/, '/')}` : '')
    for (const k of ['endpoint', 'region'] as const)
      if (options[k] !== undefined && (typeof options[k] !== 'string' || options[k] === ''))
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${k} must be a non-empty string`)
    if (options.endpoint !== undefined && !/^https?:\/\/[^\s/]+/i.test(options.endpoint))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `endpoint must be an http(s) URL, not ${JSON.stringify(options.endpoint)}`)
    const source: NamedSource = {
      name,
      url: normalised,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle === true } : {}),
    }
    await ctx.refs.setSetting(SOURCE_SETTING_PREFIX + name, JSON.stringify(source))
    return source
  })
}

export function getSource(ctx: RepoContext, name: string): Promise<NamedSource> {
  return guard('getSource', () => readNamedSource(ctx.refs, validateSourceName(name)))
}

export function listSources(ctx: RepoContext): Promise<NamedSource[]> {
  return guard('listSources', async () => {
    const out: NamedSource[] = []
    for await (const { value } of ctx.refs.listSettings(SOURCE_SETTING_PREFIX)) out.push(JSON.parse(value) as NamedSource)
    return out
  })
}

/** Forgets a named source. Entries imported from it stay, and read again once a source of that name is added back. */
export function removeSource(ctx: RepoContext, name: string): Promise<void> {
  return guard('removeSource', async () => {
    await readNamedSource(ctx.refs, validateSourceName(name))
    await ctx.refs.setSetting(SOURCE_SETTING_PREFIX + name, null)
  })
}
