import type { Table } from 'apache-arrow'
import { VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import { readArrowTable, readParquetFooter, type FooterRead } from '../parquet/parquet-reader.js'
import { describeSchema } from '../parquet/parquet-schema.js'
import type { BlockStore } from '../stores/block-store.js'
import type { Clock, RandomSource } from '../util/clock.js'
import type { DiffEntry } from '../tree/tree-diff.js'
import type { CheckEnv, CompiledCheck } from './contracts/check-types.js'
import { scanColumns, type ColumnScan } from '../parquet/column-scan.js'
import { entrySource } from '../parquet/range-source.js'
import type { Contract } from './contracts/contract-file.js'
import { loadContracts } from './contracts/load-contracts.js'
import { CONTRACTS_PREFIX, parseContract } from './contracts/contract-file.js'
import type { HookRegistry } from './hook-registry.js'
import { recordHookRuns } from './hook-run-log.js'
import { mapLimit } from '../util/map-limit.js'
import type { WebhookSettings } from './contracts/checks/webhook.js'

/** Footers read at once: each is one or two small range reads (S3 round trips, on S3). */
const FOOTER_READS = 16
import type { HookContext, HookEvent, HookFailure, HookFinding, HookResult, HookRun, HookRunStatus, Snapshot } from './hook-types.js'

export interface GateRequest {
  readonly event: HookEvent
  readonly branch: string
  readonly source?: string
  /** The commit as it would be (pre-) or is (post-). */
  readonly candidate: string
  /** The branch head before the operation, if any. */
  readonly base?: string
  /** Where contracts are read (default: base, else candidate): the rules already on the destination. */
  readonly rulesAt?: string
  /** The gate runs for a look (a dry run, `mr show`, `hooks check`): nothing will move whatever it says. */
  readonly dryRun?: boolean
}

export interface GateDeps {
  readonly blocks: BlockStore
  readonly objects: ObjectStore
  readonly clock: Clock
  readonly random: RandomSource
  readonly registry: HookRegistry
  snapshot(commit: string): Snapshot
  diff(from: string, to: string): AsyncIterable<DiffEntry>
  /** Settings of `type: webhook` checks (allowed hosts, the repository's name, a diff link). */
  readonly webhooks?: WebhookSettings
}

interface Runnable {
  readonly id: string
  readonly origin: string
  readonly timeoutMs: number
  run(ctx: HookContext): Promise<HookResult | void> | HookResult | void
}

const DEFAULT_TIMEOUT_MS = 30_000

/**
 * Runs the hooks of an event: code hooks from the registry and declarative contracts read from the
 * destination, all at once, each with its own time limit, each run recorded. A pre-event failure is
 * VarveError HOOK_FAILED and the caller moves nothing; post-event failures are only recorded.
 */
export class Gates {
  constructor(private readonly deps: GateDeps) {}

  async pre(req: GateRequest): Promise<HookRun[]> {
    const runs = await this.#run(req)
    const failed = runs.filter((r) => r.status !== 'passed')
    if (failed.length) throw hookFailed(req, failed)
    return runs
  }

  /** Never throws: the operation already happened. */
  async post(req: GateRequest): Promise<HookRun[]> {
    return this.#run(req).catch(() => [])
  }

  async #run(req: GateRequest): Promise<HookRun[]> {
    const hooks: Runnable[] = this.deps.registry
      .matching(req.event, req.branch)
      .map((h) => ({ id: h.id, origin: 'code', timeoutMs: h.timeoutMs ?? DEFAULT_TIMEOUT_MS, run: (ctx: HookContext) => h.run(ctx) }))
    const readers = this.#readers(req)
    if (req.event.startsWith('pre-')) {
      await this.#validateChangedRules(req)
      const rulesAt = req.rulesAt ?? req.base ?? req.candidate
      const only = { event: req.event, branch: req.branch }
      const contracts = await loadContracts(this.deps.snapshot(rulesAt), only, rulesAt === req.candidate ? undefined : readers.candidate)
      const env = once(() => this.#checkEnv(req, readers))
      for (const c of contracts) hooks.push(contractHook(c, env))
    }
    if (!hooks.length) return []
    const ctx = this.#context(req, readers)
    const runId = `${this.deps.clock.now().toString(36)}-${this.deps.random.hex(6)}`
    const runs = await Promise.all(hooks.map((h) => this.#runOne(h, ctx, req, runId)))
    await recordHookRuns(this.deps.blocks, runs)
    return runs
  }

  /**
   * Every rules file the change adds or modifies must be valid against the full schema, whatever
   * event or branch it governs: a broken file is refused before it lands, so it can never lock the
   * branch it was merged into (INVALID_CONFIG naming file:line).
   */
  async #validateChangedRules(req: GateRequest): Promise<void> {
    if (!req.base || req.base === req.candidate) return
    const candidate = this.deps.snapshot(req.candidate)
    const base = this.deps.snapshot(req.base)
    // Only the rules folder is read (a few files), so the check costs nothing with the size of the change.
    for await (const e of candidate.list({ prefix: CONTRACTS_PREFIX })) {
      if (!('address' in e) || !/\.ya?ml$/i.test(e.path)) continue
      const before = await base.stat(e.path).catch((err) => (VarveError.is(err, 'NOT_FOUND') ? undefined : Promise.reject(err)))
      if (before?.address === e.address) continue
      parseContract(e.path, Buffer.from(await candidate.get(e.path)).toString('utf8'))
    }
  }

  async #runOne(hook: Runnable, base: Omit<HookContext, 'signal'>, req: GateRequest, runId: string): Promise<HookRun> {
    const startedAt = this.deps.clock.now()
    const t0 = performance.now()
    const abort = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error(`hook ${hook.id} timed out after ${hook.timeoutMs} ms`))
        resolve('timeout')
      }, hook.timeoutMs)
    })
    let status: HookRunStatus
    let message: string
    let failures: readonly HookFinding[] = []
    try {
      const result = await Promise.race([Promise.resolve().then(() => hook.run({ ...base, signal: abort.signal })), timeout])
      if (result === 'timeout') {
        status = 'timeout'
        message = `timed out after ${hook.timeoutMs} ms`
      } else {
        const r = result ?? { ok: true }
        status = r.ok ? 'passed' : 'failed'
        failures = r.failures ?? []
        message = r.message ?? (r.ok ? 'ok' : failures.length ? `${failures.length} problem${failures.length === 1 ? '' : 's'}` : 'failed')
      }
    } catch (err) {
      status = 'error'
      message = `threw: ${(err as Error)?.message ?? String(err)}`
    } finally {
      clearTimeout(timer)
    }
    return {
      runId,
      event: req.event,
      branch: req.branch,
      candidate: req.candidate,
      hookId: hook.id,
      origin: hook.origin,
      status,
      message,
      failures,
      durationMs: Math.round(performance.now() - t0),
      startedAt,
    }
  }

  /** Parquet readers shared by every hook of one event, cached by content address. */
  #readers(req: GateRequest): Readers {
    const { objects, snapshot } = this.deps
    const footers = new Map<string, Promise<FooterRead>>()
    const tables = new Map<string, Promise<Table>>()
    return {
      candidate: snapshot(req.candidate),
      footer: (e) => cached(footers, e.address, () => readParquetFooter(objects, e)),
      table: (e) => cached(tables, e.address, async () => readArrowTable(await objects.readData(e), e.path)),
      scanColumns: (e, columns, o) => scanColumns(entrySource(objects, e), e.path, columns, o),
    }
  }

  #diff(req: GateRequest): AsyncIterable<DiffEntry> {
    return req.base ? this.deps.diff(req.base, req.candidate) : emptyDiff()
  }

  #context(req: GateRequest, r: Readers): Omit<HookContext, 'signal'> {
    return {
      event: req.event,
      branch: req.branch,
      ...(req.source !== undefined ? { source: req.source } : {}),
      candidate: r.candidate,
      ...(req.base !== undefined ? { base: this.deps.snapshot(req.base) } : {}),
      diff: () => this.#diff(req),
      readParquetSchema: async (path) => describeSchema((await r.footer(await r.candidate.stat(path))).metadata),
      readTable: async (path) => r.table(await r.candidate.stat(path)),
    }
  }

  async #checkEnv(req: GateRequest, r: Readers): Promise<CheckEnv> {
    const changes = await collectDiff(this.#diff(req))
    const written = changes.filter((d) => d.right).map((d) => d.right!)
    return {
      gate: {
        event: req.event,
        branch: req.branch,
        candidate: req.candidate,
        ...(req.dryRun ? { dryRun: true } : {}),
        ...(req.source !== undefined ? { source: req.source } : {}),
        ...(req.base !== undefined ? { base: req.base } : {}),
      },
      ...(this.deps.webhooks ? { webhooks: this.deps.webhooks } : {}),
      changes,
      written,
      listCandidate: (prefix) => onlyEntries(r.candidate.list({ prefix })),
      hasInCandidate: (path) =>
        r.candidate.stat(path).then(
          () => true,
          (e) => (VarveError.is(e, 'NOT_FOUND') ? false : Promise.reject(e)),
        ),
      footer: r.footer,
      table: r.table,
      scanColumns: (entry, columns, o) => r.scanColumns(entry, columns, o),
      writtenFooters: async (matches) => {
        const files = written.filter((e) => matches(e.path))
        const footers = await mapLimit(files, FOOTER_READS, r.footer)
        return files.map((entry, i) => ({ entry, footer: footers[i]! }))
      },
    }
  }
}

interface Readers {
  readonly candidate: Snapshot
  footer(e: Entry): Promise<FooterRead>
  table(e: Entry): Promise<Table>
  scanColumns(e: Entry, columns: readonly string[], o: { duplicates: boolean; signal?: AbortSignal }): Promise<Record<string, ColumnScan>>
}

function contractHook(c: Contract, env: () => Promise<CheckEnv>): Runnable {
  return {
    id: c.id,
    origin: c.file,
    timeoutMs: c.timeoutMs ?? DEFAULT_TIMEOUT_MS * 2,
    run: async (ctx) => {
      const base = await env()
      // Decoding runs in worker threads tied to this run's signal: the timeout terminates them.
      const e: CheckEnv = { ...base, scanColumns: (entry, columns, o) => base.scanColumns(entry, columns, { ...o, signal: ctx.signal }) }
      const broken = new Map<string, VarveError>()
      const findings = (await Promise.all(c.checks.map((check) => runIsolatingBrokenFiles(check, e, broken)))).flat()
      // A file that is not Parquet is a failure of that file; the other files' findings stand.
      for (const [file, err] of broken) findings.push({ file, reason: err.message, code: err.code })
      return {
        ok: findings.length === 0,
        failures: findings,
        message: findings.length ? `${findings.length} problem${findings.length === 1 ? '' : 's'}` : 'ok',
      }
    },
  }
}

/**
 * Runs a check with the files known to be broken (not Parquet) left out. Footers are read per file
 * (a broken one is recorded and skipped); a check that decodes a broken file itself fails with
 * INVALID_PARQUET naming it, and is run again without it (at most once per file).
 */
async function runIsolatingBrokenFiles(check: CompiledCheck, env: CheckEnv, broken: Map<string, VarveError>): Promise<HookFinding[]> {
  for (;;) {
    const skipped = new Set(broken.keys()) // other checks may add to `broken` while this one runs
    const skip = (path: string) => skipped.has(path) || broken.has(path)
    const e: CheckEnv = {
      ...env,
      written: env.written.filter((x) => !skip(x.path)),
      changes: env.changes.filter((d) => !(d.right && skip(d.right.path))),
      writtenFooters: async (matches) => {
        const out: { entry: Entry; footer: FooterRead }[] = []
        const read = await mapLimit(
          env.written.filter((x) => matches(x.path) && !skip(x.path)),
          FOOTER_READS,
          (entry) =>
            env.footer(entry).then(
              (footer) => ({ entry, footer }),
              (err) => {
                if (!isBrokenFile(err, entry.path)) throw err
                broken.set(entry.path, err as VarveError)
                return undefined
              },
            ),
        )
        for (const r of read) if (r) out.push(r)
        return out
      },
    }
    try {
      return await check.run(e)
    } catch (err) {
      const path = (err as VarveError)?.details?.path
      if (typeof path !== 'string' || !isBrokenFile(err, path) || skipped.has(path) || !env.written.some((x) => x.path === path)) throw err
      if (!broken.has(path)) broken.set(path, err as VarveError)
    }
  }
}

const isBrokenFile = (err: unknown, path: string) => VarveError.is(err, 'INVALID_PARQUET') && (err as VarveError).details?.path === path

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined
  return () => (p ??= make())
}

async function collectDiff(it: AsyncIterable<DiffEntry>): Promise<DiffEntry[]> {
  const out: DiffEntry[] = []
  for await (const d of it) out.push(d)
  return out
}

async function* emptyDiff(): AsyncGenerator<DiffEntry> {}

async function* onlyEntries(items: AsyncIterable<Entry | { type: 'prefix'; path: string }>): AsyncGenerator<Entry> {
  for await (const i of items) if (!('type' in i && i.type === 'prefix')) yield i as Entry
}

function cached<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = map.get(key)
  if (!p) map.set(key, (p = make()))
  return p
}

function hookFailed(req: GateRequest, failed: HookRun[]): VarveError {
  const failures: HookFailure[] = failed.flatMap((r) =>
    r.failures.length
      ? r.failures.map((f) => ({ hookId: r.hookId, ...(f.file ? { file: f.file } : {}), reason: f.reason, ...(f.code ? { code: f.code } : {}) }))
      : [{ hookId: r.hookId, reason: r.status === 'failed' ? r.message : `${r.status}: ${r.message}` }],
  )
  const shown = failures
    .slice(0, 3)
    .map((f) => `${f.hookId}: ${f.file ? `${f.file}: ` : ''}${f.reason}`)
    .join('; ')
  const more = failures.length > 3 ? ` (and ${failures.length - 3} more)` : ''
  return new VarveError('HOOK_FAILED', `${req.event} on ${req.branch} blocked: ${shown}${more}`, {
    details: { event: req.event, branch: req.branch, ...(req.source !== undefined ? { source: req.source } : {}), runId: failed[0]!.runId, failures },
  })
}
