import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefStore } from '../stores/ref-store.js'
import type { ExternalSource, SourceResolver } from './external-source.js'

/**
 * Opens a source URL (`s3://bucket/prefix/`) as an ExternalSource named `name`. `options` are the
 * repository's adapter options (`s3: { endpoint, region, ... }`), with a named source's own settings
 * laid over them. Credentials are never among them: the adapter reads them from the environment.
 */
export type SourceOpener = (url: string, name: string, options: Readonly<Record<string, unknown>>) => Promise<ExternalSource>

const schemes = new Map<string, SourceOpener>()

/** Lets an adapter package import from and read back `scheme://` sources (`@varve/s3-adapter` registers `s3`). */
export function registerSourceScheme(scheme: string, opener: SourceOpener): void {
  schemes.set(scheme.toLowerCase(), opener)
}

/** A named source, as `varve source add` records it in the repository's settings (no credentials). */
export interface NamedSource {
  readonly name: string
  /** `s3://bucket` or `s3://bucket/prefix/`: the bucket entries' keys are read from. */
  readonly url: string
  readonly endpoint?: string
  readonly region?: string
  readonly forcePathStyle?: boolean
}

export const SOURCE_SETTING_PREFIX = 'source/'
const NAME = /^[a-z][a-z0-9_-]{0,62}$/

export function validateSourceName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new VarveError(
      ErrorCodes.INVALID_ARGUMENT,
      `a source name is 1-63 lowercase letters, digits, - or _, starting with a letter: ${JSON.stringify(name)}`,
      {
        details: { name },
      },
    )
  return name
}

/** Loads the adapter serving a scheme on first use (the CLI imports `@varve/s3-adapter` only then: the AWS SDK is slow to load). */
export type SchemeLoader = (scheme: string) => Promise<void>

async function loadScheme(url: string, options: Readonly<Record<string, unknown>>): Promise<string> {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)
  const load = options.loadSourceScheme as SchemeLoader | undefined
  if (m && load && !schemes.has(m[1]!.toLowerCase())) await load(m[1]!.toLowerCase())
  return sourceScheme(url)
}

/** The scheme of a source URL, refused when no adapter serves it. */
export function sourceScheme(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)
  if (!m)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `not a source URL: ${JSON.stringify(url)} (expected s3://bucket/prefix/ or a named source)`, {
      details: { source: url },
    })
  const scheme = m[1]!.toLowerCase()
  if (!schemes.has(scheme))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `no source adapter for ${scheme}:// URLs${scheme === 's3' ? ": import '@varve/s3-adapter' first" : ''}`, {
      details: { source: url },
    })
  return scheme
}

/** Opens a URL (its entries are then named by its bucket URL) or a named source. */
export async function openSource(refs: RefStore, source: string, adapterOptions: Readonly<Record<string, unknown>>): Promise<ExternalSource> {
  if (source.includes('://')) {
    // Entries name a URL source by its bucket alone: every prefix of it is one source.
    const scheme = await loadScheme(source, adapterOptions)
    const bucket = /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(source)![0]
    return schemes.get(scheme)!(bucket, bucket, adapterOptions)
  }
  const named = await readNamedSource(refs, validateSourceName(source))
  const scheme = await loadScheme(named.url, adapterOptions)
  const own = { ...(named.endpoint ? { endpoint: named.endpoint } : {}), ...(named.region ? { region: named.region } : {}) }
  const options = {
    ...adapterOptions,
    [scheme]: { ...(named.forcePathStyle !== undefined ? { forcePathStyle: named.forcePathStyle } : {}), ...own },
  }
  return schemes.get(scheme)!(named.url, named.name, options)
}

export async function readNamedSource(refs: RefStore, name: string): Promise<NamedSource> {
  const raw = await refs.getSetting(SOURCE_SETTING_PREFIX + name)
  if (raw === undefined)
    throw new VarveError(ErrorCodes.NOT_FOUND, `no source named ${name}: add it with varve source add ${name} s3://bucket/prefix/`, {
      details: { source: name },
    })
  return JSON.parse(raw) as NamedSource
}

/** Opens each source once, on first use: reads of imported entries name their source by string. */
export function cachingResolver(open: (source: string) => Promise<ExternalSource>): SourceResolver {
  const opened = new Map<string, Promise<ExternalSource>>()
  return (source) => {
    let s = opened.get(source)
    if (!s) {
      s = open(source)
      s.catch(() => opened.delete(source))
      opened.set(source, s)
    }
    return s
  }
}

/** A source as `import` names it: a URL (`s3://bucket/prefix/`) or a named source (`raw`, `raw/sub/prefix/`). */
export function splitSourceSpec(spec: string): { source: string; rest: string } {
  if (typeof spec !== 'string' || spec === '') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a source is s3://bucket/prefix/ or a named source')
  const url = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/?(.*)$/is.exec(spec)
  if (url) return { source: url[1]!, rest: url[2]! }
  const slash = spec.indexOf('/')
  return slash < 0 ? { source: validateSourceName(spec), rest: '' } : { source: validateSourceName(spec.slice(0, slash)), rest: spec.slice(slash + 1) }
}
