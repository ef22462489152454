import { ErrorCodes, VarveError, type MergeRequestRecord, type MergeRequestState, type MergeRequestView } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { addConflictOptions, conflictOptions, type ConflictFlags } from '../conflict-options.js'
import { colors, formatBytes, formatTime, print, printJson, printNdjson, printTable, shortId } from '../output.js'

/** `varve mr`: merge requests, reviewed and approved in the repository itself (every machine sees them). */
export function registerMergeRequests(cli: Cli): void {
  const mr = cli.program
    .command('mr')
    .description('merge requests: open, review (comments, approvals), merge through the gates')
    .addHelpText(
      'after',
      "\nExamples:\n  varve mr open backfill main -t 'Backfill day 4'\n  varve mr show 1\n  VARVE_AUTHOR=bob varve mr approve 1\n  varve mr merge 1\n\nActs as $VARVE_AUTHOR (or --author, else the OS user). The author of a request cannot approve it.",
    )

  mr.command('open <source> <dest>')
    .description('open a request to merge branch <source> into branch <dest>')
    .requiredOption('-t, --title <title>', 'what the change is')
    .option('-d, --description <text>', 'more about it')
    .option('--json', 'print the request as JSON ({ "id", ... })')
    .addHelpText(
      'after',
      "\nExamples:\n  varve mr open backfill main -t 'Backfill day 4'\n  varve mr open exp main -t 'New features' -d 'adds 3 columns' --json | jq .id",
    )
    .action(async (source: string, dest: string, opts: { title: string; description?: string } & JsonOption) => {
      const repo = await cli.repo()
      const id = await repo.openMergeRequest(source, dest, { title: opts.title, ...(opts.description !== undefined ? { description: opts.description } : {}) })
      const r = await repo.mergeRequest(id)
      if (opts.json) return printJson(r)
      print(`Opened merge request ${colors().bold(String(id))}: ${source} into ${dest}, "${opts.title}"`)
      printStanding(r)
    })

  mr.command('list')
    .description('merge requests in id order (default: the open ones)')
    .option('--state <state>', 'open | merged | closed | all', 'open')
    .option('--json', 'NDJSON, one request per line')
    .addHelpText('after', '\nExamples:\n  varve mr list\n  varve mr list --state all --json')
    .action(async (opts: { state: string } & JsonOption) => {
      if (!['open', 'merged', 'closed', 'all'].includes(opts.state))
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, '--state must be open, merged, closed or all', { details: { usage: true } })
      const repo = await cli.repo()
      const rows: string[][] = []
      for await (const r of repo.mergeRequests(opts.state === 'all' ? {} : { state: opts.state as MergeRequestState })) {
        if (opts.json) printNdjson(r)
        else
          rows.push([
            `${r.id}`,
            r.state,
            `${r.source} -> ${r.dest}`,
            r.title,
            r.author,
            `${r.approvals.length} approval${r.approvals.length === 1 ? '' : 's'}`,
            formatTime(r.updatedAt),
          ])
      }
      if (opts.json) return
      if (!rows.length) return print(`No ${opts.state === 'all' ? '' : `${opts.state} `}merge requests`)
      printTable(rows, { header: ['id', 'state', 'branches', 'title', 'author', 'approvals', 'updated'] })
    })

  mr.command('show <id>')
    .description('one request: heads, changes, conflicts, the gates run on the merge as it would be, approvals, comments, history')
    .option('--json', 'print it as one JSON document')
    .addHelpText('after', '\nExamples:\n  varve mr show 1\n  varve mr show 1 --json | jq .gates')
    .action(async (id: string, opts: JsonOption) => {
      const repo = await cli.repo()
      const r = await repo.mergeRequest(idOf(id))
      const history = []
      for await (const e of repo.mergeRequestLog(r.id)) history.push(e)
      if (opts.json) return printJson({ ...r, history })
      const c = colors()
      print(`merge request ${c.bold(String(r.id))}: ${r.title}`)
      print(
        `state      ${r.state === 'open' ? c.green('open') : r.state}${r.merged ? ` as ${shortId(r.merged.commit)} by ${r.merged.by}` : ''}${r.closed ? ` by ${r.closed.by}` : ''}`,
      )
      print(`branches   ${r.source} (${r.sourceHead ? shortId(r.sourceHead) : 'deleted'}) into ${r.dest} (${r.destHead ? shortId(r.destHead) : 'deleted'})`)
      print(`author     ${r.author}, ${formatTime(r.createdAt)}`)
      if (r.description) print(`\n${r.description.replace(/^/gm, '    ')}\n`)
      printStanding(r)
      if (r.comments.length) {
        print('comments')
        for (const cm of r.comments) print(`  #${cm.id} ${cm.author} (${formatTime(cm.at)})${cm.path ? ` on ${cm.path}` : ''}: ${cm.text}`)
      }
      print('history')
      for (const e of history) print(`  ${formatTime(e.at)}  ${e.operation.replace(/^mr-/, '').padEnd(12)} ${e.author}${e.message ? `  ${e.message}` : ''}`)
    })

  mr.command('approve <id>')
    .description('approve the request for its source head now (or only if the head is still --head)')
    .option('--head <commit>', 'the source commit you reviewed: refused if the source has moved since')
    .option('--signing-key <file>', 'sign the approval with this SSH key (a private key, or a public key held by ssh-agent); default $VARVE_SIGNING_KEY')
    .option('--json', 'print the request as JSON')
    .addHelpText(
      'after',
      "\nExamples:\n  varve mr approve 1 --author bob\n  varve mr approve 1 --head 3d49d868c40a   (only if the source is still at the commit you reviewed)\n  VARVE_AUTHOR=bob varve mr approve 1\n  varve mr approve 1 --author bob --signing-key ~/.ssh/id_ed25519   (branches protected with --signed)\n\nA signed approval counts where _varve/allowed_signers on the destination (git's allowed-signers\nformat) lists the key for the reviewer. Signing runs ssh-keygen -Y sign (OpenSSH 8.2 or later).",
    )
    .action(async (id: string, opts: { head?: string; signingKey?: string } & JsonOption) => {
      const repo = await cli.repo()
      const keyFile = opts.signingKey ?? (process.env.VARVE_SIGNING_KEY || undefined)
      const r = keyFile
        ? await repo.signApproval(idOf(id), { keyFile, ...(opts.head ? { head: opts.head } : {}) })
        : await repo.approve(idOf(id), opts.head ? { head: opts.head } : {})
      if (opts.json) return printJson(r)
      const a = r.approvals.at(-1)!
      print(
        `${a.reviewer} approved merge request ${r.id} at ${shortId(a.sourceHead)}${a.signature ? ', signed' : ''} (${r.approvals.length} approval${r.approvals.length === 1 ? '' : 's'})`,
      )
    })

  mr.command('unapprove <id>')
    .description('withdraw your approval')
    .option('--json', 'print the request as JSON')
    .addHelpText('after', '\nExample:\n  varve mr unapprove 1 --author bob')
    .action(async (id: string, opts: JsonOption) => {
      const r = await (await cli.repo()).unapprove(idOf(id))
      if (opts.json) return printJson(r)
      print(`Approval withdrawn: merge request ${r.id} has ${r.approvals.length} approval${r.approvals.length === 1 ? '' : 's'}`)
    })

  mr.command('comment <id> [text]')
    .description('comment on the request, or on one path of it')
    .option('-m, --message <text>', 'the comment (instead of the argument)')
    .option('--path <path>', 'the path the comment is about')
    .option('--json', 'print the comment as JSON')
    .addHelpText('after', "\nExamples:\n  varve mr comment 1 'day 4 looks short'\n  varve mr comment 1 --path train/day=4/part-0.parquet -m 'score has nulls'")
    .action(async (id: string, text: string | undefined, opts: { message?: string; path?: string } & JsonOption) => {
      const body = opts.message ?? text
      if (!body) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'mr comment needs the text (an argument or -m)', { details: { usage: true } })
      const cm = await (await cli.repo()).comment(idOf(id), { text: body, ...(opts.path !== undefined ? { path: opts.path } : {}) })
      if (opts.json) return printJson(cm)
      print(`Comment #${cm.id} on merge request ${id}${cm.path ? ` (${cm.path})` : ''}`)
    })

  mr.command('close <id>')
    .description('close the request without merging')
    .option('--json', 'print the request as JSON')
    .addHelpText('after', '\nExample:\n  varve mr close 1')
    .action(async (id: string, opts: JsonOption) => {
      const r = await (await cli.repo()).closeMergeRequest(idOf(id))
      if (opts.json) return printJson(r)
      print(`Closed merge request ${r.id}`)
    })

  addConflictOptions(
    mr
      .command('merge <id>')
      .description("merge an approved request through the destination's gates (exit 3 on conflict, 4 when a gate refuses or approvals are missing)"),
    { dryRun: false },
  )
    .option('-m, --message <message>', 'the merge commit message')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      "\nExamples:\n  varve mr merge 1\n  varve mr merge 1 --resolve 'train/**=source' --resolve 'config/*=dest'\n\nTo see what a merge would do first: varve mr show <id>.",
    )
    .action(async (id: string, opts: ConflictFlags & { message?: string } & JsonOption) => {
      const settle = conflictOptions(opts)
      const r = await (await cli.repo()).mergeMergeRequest(idOf(id), { ...settle, ...(opts.message ? { message: opts.message } : {}) })
      if (opts.json) return printJson(r)
      print(
        `Merged merge request ${r.request.id} (${r.request.source} into ${colors().bold(r.request.dest)}): ${shortId(r.commit.id)}${r.request.merged?.approvers.length ? `, approved by ${r.request.merged.approvers.join(', ')}` : ''}`,
      )
    })
}

const idOf = (s: string): number => {
  const n = Number(s.replace(/^[#!]/, ''))
  if (!Number.isSafeInteger(n) || n < 1)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a merge request id is a number, not ${JSON.stringify(s)}`, { details: { usage: true } })
  return n
}

/** Where an open request stands: changes, conflicts, gates, approvals, and what blocks it. */
function printStanding(r: MergeRequestView | MergeRequestRecord): void {
  const v = r as MergeRequestView
  if (r.state !== 'open' || !v.approval) return
  const c = colors()
  if (v.changes) print(`changes    ${v.changes.added} added, ${v.changes.changed} changed, ${v.changes.removed} removed`)
  const conflicts = v.conflicts ?? []
  if (conflicts.length) {
    print(`conflicts  ${c.red(String(conflicts.length))}`)
    for (const x of conflicts)
      print(
        `  ${x.path}  source ${x.source}${x.sourceEntry ? ` (${formatBytes(x.sourceEntry.size)}${x.rows?.source !== undefined ? `, ${x.rows.source} rows` : ''})` : ''}, dest ${x.dest}${x.destEntry ? ` (${formatBytes(x.destEntry.size)}${x.rows?.dest !== undefined ? `, ${x.rows.dest} rows` : ''})` : ''}`,
      )
  } else print('conflicts  none')
  const g = v.gates
  if (g?.status === 'passed') print(`gates      ${c.green('passed')} (${(g.runs ?? []).map((x) => x.hookId).join(', ') || 'no gates on this branch'})`)
  else if (g?.status === 'failed') {
    print(`gates      ${c.red('failed')}`)
    for (const f of g.failures ?? []) print(`  ${f.hookId}: ${f.file ? `${f.file}: ` : ''}${f.reason}`)
  } else if (g) print(`gates      not run: ${g.reason}`)
  const a = v.approval
  print(
    `approvals  ${a.counted.length} of ${a.required} required${a.counted.length ? ` (${a.counted.join(', ')})` : ''}${a.stale.length ? `; approved an older head: ${a.stale.join(', ')}` : ''}`,
  )
  // Under signed approvals: each approval that does not count, and why (unsigned, an unknown key, ...)
  for (const x of a.rejected ?? []) print(`           not counted: ${x.reviewer} (${x.reason})`)
  print(v.mergeable ? c.green('mergeable: yes') : `mergeable: no (${(v.blockers ?? []).join('; ')})`)
}
