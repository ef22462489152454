import { VarveError, ErrorCodes } from '@varve/core'
import type { Command } from 'commander'
import type { Cli } from '../cli.js'
import { print } from '../output.js'

/** `varve completion bash`: verbs, sub-verbs and options, taken from the program itself so they never drift. */
export function registerCompletion(cli: Cli): void {
  cli.program
    .command('completion <shell>')
    .description('print a shell completion script (bash; zsh via bashcompinit)')
    .addHelpText('after', '\nInstall:\n  varve completion bash > ~/.local/share/bash-completion/completions/varve')
    .action((shell: string) => {
      if (shell !== 'bash')
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `no completion for ${shell}: use bash (zsh: autoload bashcompinit && bashcompinit)`, { details: { usage: true } })
      print(bashScript(cli.program))
    })
}

function bashScript(program: Command): string {
  const verbs = program.commands.map((c) => c.name())
  const cases = program.commands
    .map((c) => {
      const words = [...c.commands.map((s) => s.name()), ...c.options.map((o) => o.long ?? '').filter(Boolean)]
      return `    ${c.name()}) words="${words.join(' ')}" ;;`
    })
    .join('\n')
  return `# bash completion for varve
_varve() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" verb="\${COMP_WORDS[1]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${verbs.join(' ')} --repo --author --help --version" -- "$cur") )
    return
  fi
  case "$verb" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur") )
}
complete -F _varve varve`
}
