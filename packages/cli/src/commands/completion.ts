import { VarveError, ErrorCodes } from '@varve/core'
import type { Command } from 'commander'
import type { Cli } from '../cli.js'
import { print } from '../output.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = (typeof SHELLS)[number]

/** Verbs whose first argument is an address (`ref:path`): they complete `name:`, the rest complete `name`. */
const ADDRESS_VERBS = ['ls', 'get', 'cat', 'stat', 'rm', 'blame']

/**
 * `varve completion bash|zsh|fish`: verbs, sub-verbs and flags taken from the program itself so they
 * never drift; branch and tag names asked of the repository at TAB time (`varve __refs`).
 */
export function registerCompletion(cli: Cli): void {
  cli.program
    .command('completion <shell>')
    .description('print a shell completion script: bash, zsh or fish (verbs, flags, branch and tag names)')
    .addHelpText(
      'after',
      '\nInstall:\n  varve completion bash > ~/.local/share/bash-completion/completions/varve\n' +
        '  varve completion zsh > "${fpath[1]}/_varve"          (or: source <(varve completion zsh) in .zshrc, after compinit)\n' +
        '  varve completion fish > ~/.config/fish/completions/varve.fish',
    )
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell))
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `no completion for ${JSON.stringify(shell)}: use bash, zsh or fish`, { details: { usage: true } })
      print(SCRIPTS[shell as Shell](describe(cli.program)))
    })
  // Hidden: what the scripts call on TAB. Quiet and exit 0 outside a repository.
  cli.program.command('__refs', { hidden: true }).action(async () => {
    try {
      const repo = await cli.repo()
      for await (const b of repo.branches()) print(b.name)
      for await (const t of repo.tags()) print(t.name)
    } catch {
      /* no repository here: nothing to offer */
    }
  })
}

interface Described {
  readonly verbs: string[]
  /** Per verb: its sub-verbs and flags. */
  readonly words: Map<string, string[]>
  readonly globals: string[]
}

function describe(program: Command): Described {
  const visible = program.commands.filter((c) => !c.name().startsWith('__'))
  const words = new Map<string, string[]>()
  for (const c of visible) words.set(c.name(), [...c.commands.map((s) => s.name()), ...flagsOf(c), ...c.commands.flatMap(flagsOf), '--help'])
  return { verbs: visible.map((c) => c.name()), words, globals: [...flagsOf(program), '--help', '--version'] }
}

const flagsOf = (c: Command) => c.options.map((o) => o.long ?? '').filter((f) => f && f !== '--version')
const unique = (xs: string[]) => [...new Set(xs)].join(' ')

const SCRIPTS: Record<Shell, (d: Described) => string> = {
  bash: (d) => `# bash completion for varve (varve completion bash)
_varve() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" verb="\${COMP_WORDS[1]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${d.verbs.join(' ')} ${d.globals.join(' ')}" -- "$cur") )
    return
  fi
  case "$verb" in
${[...d.words].map(([v, w]) => `    ${v}) words="${unique(w)}" ;;`).join('\n')}
    *) words="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
    return
  fi
  local refs
  refs="$(varve __refs 2>/dev/null)"
  case "$verb" in
    ${ADDRESS_VERBS.join('|')}) refs="$(printf '%s:\\n' $refs)" ; compopt -o nospace 2>/dev/null ;;
  esac
  COMPREPLY=( $(compgen -W "$words $refs" -- "$cur") $(compgen -f -- "$cur") )
}
complete -F _varve varve`,

  zsh: (d) => `#compdef varve
# zsh completion for varve (varve completion zsh)
_varve() {
  local -a words_ refs
  if (( CURRENT == 2 )); then
    compadd -- ${d.verbs.join(' ')} ${d.globals.join(' ')}
    return
  fi
  case "$words[2]" in
${[...d.words].map(([v, w]) => `    ${v}) words_=(${unique(w)}) ;;`).join('\n')}
  esac
  if [[ "$PREFIX" == -* ]]; then
    compadd -- $words_
    return
  fi
  refs=(\${(f)"$(varve __refs 2>/dev/null)"})
  case "$words[2]" in
    ${ADDRESS_VERBS.join('|')}) compadd -S '' -- \${^refs}: ;;
    *) compadd -- $words_ $refs ;;
  esac
  _files
}
# autoloaded from $fpath as _varve: complete now; sourced (e.g. from .zshrc): register
if [ "$funcstack[1]" = "_varve" ]; then _varve "$@"; else compdef _varve varve; fi`,

  fish: (d) => {
    const lines = [
      '# fish completion for varve (varve completion fish)',
      'complete -c varve -f',
      `complete -c varve -n __fish_use_subcommand -a "${d.verbs.join(' ')}"`,
      ...d.globals.map((g) => `complete -c varve -n __fish_use_subcommand -l ${g.slice(2)}`),
    ]
    for (const [v, w] of d.words) {
      const subs = w.filter((x) => !x.startsWith('-'))
      if (subs.length) lines.push(`complete -c varve -n "__fish_seen_subcommand_from ${v}" -a "${subs.join(' ')}"`)
      for (const f of new Set(w.filter((x) => x.startsWith('--')))) lines.push(`complete -c varve -n "__fish_seen_subcommand_from ${v}" -l ${f.slice(2)}`)
      // single quotes: fish evaluates the command substitution at TAB time, not when sourcing
      const refs = ADDRESS_VERBS.includes(v) ? '(for r in (varve __refs 2>/dev/null); echo $r:; end)' : '(varve __refs 2>/dev/null)'
      lines.push(`complete -c varve -n "__fish_seen_subcommand_from ${v}" -a '${refs}'`)
      lines.push(`complete -c varve -n "__fish_seen_subcommand_from ${v}" -F`)
    }
    return lines.join('\n')
  },
}
