import { ErrorCodes, isBranchPattern, VarveError, type BranchProtection } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatTime, print, printJson, printNdjson, printTable, shortId } from '../output.js'

export function registerBranch(cli: Cli): void {
  const branch = cli.program
    .command('branch')
    .description('create, list, delete and protect branches')
    .addHelpText('after', '\nExamples:\n  varve branch create backfill --from main\n  varve branch list\n  varve branch show backfill')
  branch
    .command('create <name>')
    .description('create a branch (O(1): nothing is copied)')
    .option('--from <ref>', 'where it starts (default: the default branch)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  varve branch create backfill-2026-11\n  varve branch create exp --from v1')
    .action(async (name: string, opts: { from?: string } & JsonOption) => {
      const repo = await cli.repo()
      const b = await repo.createBranch(name, opts.from ? { from: opts.from } : {})
      if (opts.json) return printJson(b)
      print(`Created branch ${colors().bold(name)} at ${shortId(b.head)}`)
    })
  branch
    .command('list')
    .description('list branches: head, protection, uncommitted changes')
    .option('--json', 'NDJSON, one branch per line: name, head, dirty, protected, message')
    .option('-r, --remotes', 'list remote-tracking refs (origin/main, ...) instead, as git branch -r does')
    .addHelpText('after', "\nExamples:\n  varve branch list\n  varve branch list -r\n  varve branch list --json | jq -r 'select(.dirty) | .name'")
    .action(async (opts: JsonOption & { remotes?: boolean }) => {
      const repo = await cli.repo()
      if (opts.remotes) {
        const refs = await repo.trackingRefs()
        if (opts.json) for (const t of refs) printNdjson({ name: `${t.remote}/${t.branch}`, ...t })
        else printTable(refs.map((t) => [`${t.remote}/${t.branch}`, colors().yellow(shortId(t.commit))]))
        return
      }
      const protectedNames = new Set<string>()
      let patterns = false
      for await (const p of repo.protectedBranches()) {
        protectedNames.add(p.branch)
        patterns ||= isBranchPattern(p.branch)
      }
      const rows: string[][] = []
      const c = colors()
      for await (const listed of repo.branches()) {
        const [b, head] = await Promise.all([repo.getBranch(listed.name), repo.getCommit(listed.head)])
        // A pattern's rules (release/*) protect the names they match: ask for those one by one.
        const isProtected = protectedNames.has(b.name) || (patterns && (await repo.branchProtection(b.name)) !== undefined)
        if (opts.json) printNdjson({ name: b.name, head: b.head, dirty: b.dirty, protected: isProtected, message: head.message })
        else
          rows.push([
            b.name === repo.defaultBranch ? c.green(b.name) : b.name,
            c.yellow(shortId(b.head)),
            [isProtected ? 'protected' : '', b.dirty ? c.red('dirty') : ''].filter(Boolean).join(',') || '-',
            head.message.split('\n')[0]!,
          ])
      }
      if (!opts.json) printTable(rows)
    })
  branch
    .command('show <name>')
    .description('one branch: head commit, uncommitted changes, protection')
    .option('--json', 'print it as one JSON document')
    .addHelpText('after', '\nExamples:\n  varve branch show main\n  varve branch show backfill --json | jq .staged')
    .action(async (name: string, opts: JsonOption) => {
      const repo = await cli.repo()
      const b = await repo.getBranch(name)
      const [head, protection] = await Promise.all([repo.getCommit(b.head), repo.branchProtection(name)])
      const staged = { added: 0, changed: 0, removed: 0 }
      if (b.dirty) for await (const ch of repo.uncommitted(name)) staged[ch.type]++
      const total = staged.added + staged.changed + staged.removed
      const doc = {
        name,
        head: b.head,
        dirty: b.dirty,
        default: name === repo.defaultBranch,
        protected: protection !== undefined,
        ...(protection ? { protection } : {}),
        staged: { ...staged, total },
        commit: { message: head.message, author: head.author, createdAt: head.createdAt },
      }
      if (opts.json) return printJson(doc)
      const c = colors()
      print(`branch ${c.bold(name)}${doc.default ? ' (default)' : ''}`)
      print(`head       ${c.yellow(b.head)}`)
      print(`           ${head.message.split('\n')[0]} (${head.author}, ${formatTime(head.createdAt)})`)
      print(`staged     ${total ? `${total} uncommitted (${staged.added} added, ${staged.changed} changed, ${staged.removed} removed)` : 'nothing: clean'}`)
      print(`protected  ${protection ? describeRules(protection) : 'no'}`)
    })
  branch
    .command('delete <name>')
    .description('delete a branch and its uncommitted changes')
    .addHelpText('after', '\nExample:\n  varve branch delete backfill')
    .action(async (name: string) => {
      await (await cli.repo()).deleteBranch(name)
      print(`Deleted branch ${name}`)
    })
  branch
    .command('protect [name]')
    .description('refuse direct writes, commits, deletion and reset of a branch or of every branch a pattern matches (release/*): changes arrive by merge only')
    .option('--allow-commits', 'still allow direct commits')
    .option('--allow-delete', 'still allow deletion')
    .option('--allow-reset', 'still allow reset')
    .option('--required-approvals <n>', 'merges arrive only through merge requests with n approvals (varve mr)')
    .option('--dismiss-stale-approvals', 'a new commit on the source voids earlier approvals')
    .option('--require-merge-request', 'merges arrive only through merge requests, even with no approval required')
    .option('--signed', 'approvals count only when signed by an SSH key _varve/allowed_signers on the branch lists for the reviewer')
    .option('--list', 'list every rule (branch names and patterns)')
    .option('--json', 'print the rules as JSON')
    .addHelpText(
      'after',
      "\nExamples:\n  varve branch protect main\n  varve branch protect main --required-approvals 1 --dismiss-stale-approvals\n  varve branch protect 'release/*' --required-approvals 2\n  varve branch protect main --required-approvals 1 --signed   (reviewers sign: varve mr approve --signing-key)\n  varve branch protect staging --allow-commits\n  varve branch protect --list\n\nSetting rules again replaces them. A branch under several rules gets the strictest of each.",
    )
    .action(async (name: string | undefined, opts: ProtectFlags & JsonOption) => {
      const repo = await cli.repo()
      if (opts.list) {
        const all = []
        for await (const p of repo.protectedBranches()) all.push(p)
        if (opts.json) return printJson({ rules: all.map((p) => ({ pattern: p.branch, ...p.rules })) })
        if (!all.length) return print('No branch is protected')
        return printTable(
          all.map((p) => [p.branch, describeRules(p.rules)]),
          { header: ['branch or pattern', 'rules'] },
        )
      }
      if (!name) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'branch protect needs a branch name or pattern (or --list)', { details: { usage: true } })
      const approvals = opts.requiredApprovals === undefined ? 0 : Number(opts.requiredApprovals)
      if (!Number.isInteger(approvals) || approvals < 0)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `--required-approvals takes a whole number, not ${JSON.stringify(opts.requiredApprovals)}`, {
          details: { usage: true },
        })
      const rules = await repo.protectBranch(name, {
        directCommits: !!opts.allowCommits,
        deletion: !!opts.allowDelete,
        reset: !!opts.allowReset,
        requiredApprovals: approvals,
        dismissStaleApprovals: !!opts.dismissStaleApprovals,
        requireMergeRequest: !!opts.requireMergeRequest,
        signedApprovals: !!opts.signed,
      })
      if (opts.json) return printJson({ pattern: name, ...rules })
      print(`Protected ${name}: ${describeRules(rules)}`)
    })
  branch
    .command('unprotect <name>')
    .description('remove the protection rules of a branch (the way out when its rules must be repaired directly)')
    .addHelpText('after', '\nExample:\n  varve branch unprotect main')
    .action(async (name: string) => {
      await (await cli.repo()).unprotectBranch(name)
      print(`Unprotected ${name}: its rules are removed (rules of patterns that match it still apply)`)
    })
}

interface ProtectFlags {
  allowCommits?: boolean
  allowDelete?: boolean
  allowReset?: boolean
  requiredApprovals?: string
  dismissStaleApprovals?: boolean
  requireMergeRequest?: boolean
  signed?: boolean
  list?: boolean
}

/** `direct commits refused, deletion refused, reset allowed, merges need 2 approvals (stale ones dismissed)`. */
export function describeRules(r: BranchProtection): string {
  const parts = [
    `direct commits ${r.directCommits ? 'allowed' : 'refused'}`,
    `deletion ${r.deletion ? 'allowed' : 'refused'}`,
    `reset ${r.reset ? 'allowed' : 'refused'}`,
  ]
  if (r.requiredApprovals > 0)
    parts.push(
      `merges need a merge request with ${r.requiredApprovals} approval${r.requiredApprovals === 1 ? '' : 's'}${r.signedApprovals ? ', signed' : ''}${r.dismissStaleApprovals ? ' (new commits void them)' : ''}`,
    )
  else if (r.requireMergeRequest) parts.push('merges need a merge request')
  return parts.join(', ')
}
