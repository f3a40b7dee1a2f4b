package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// completionFlag is the hidden flag urfave/cli answers with the words that
// may come next; the shell scripts below call it.
const completionFlag = "--generate-bash-completion"

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes hotswap's commands and flags in your shell.

Examples:
  # bash, this shell only, then for every new one:
  source <(hotswap completion bash)
  hotswap completion bash | sudo tee /etc/bash_completion.d/hotswap
  # zsh (compinit loaded):
  hotswap completion zsh > "${fpath[1]}/_hotswap"
  # fish:
  hotswap completion fish > ~/.config/fish/completions/hotswap.fish`,
		Action: func(c *cli.Context) error {
			if err := needArgs(c, "bash|zsh|fish"); err != nil {
				return err
			}
			script, err := completionScript(c.App, c.Args().First())
			if err != nil {
				return usageErr(c, "%v", err)
			}
			_, err = fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}

// completionScript is the completion script of app for shell.
func completionScript(app *cli.App, shell string) (string, error) {
	switch shell {
	case "bash":
		return fmt.Sprintf(bashCompletion, app.Name), nil
	case "zsh":
		return fmt.Sprintf(zshCompletion, app.Name), nil
	case "fish":
		return app.ToFishCompletion()
	}
	return "", fmt.Errorf("unknown shell %q: want bash, zsh or fish", shell)
}

// bashCompletion asks the program for the words that may follow the ones
// typed (needs no bash-completion package).
const bashCompletion = `# bash completion of %[1]s: source <(%[1]s completion bash)
_%[1]s_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local -a typed=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local words
  if [[ "$cur" == -* ]]; then
    words=$("${typed[@]}" "$cur" ` + completionFlag + ` 2>/dev/null)
  else
    words=$("${typed[@]}" ` + completionFlag + ` 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _%[1]s_complete %[1]s
`

// zshCompletion is urfave/cli's zsh script: the program prints
// "word:description" lines when _CLI_ZSH_AUTOCOMPLETE_HACK is set.
const zshCompletion = `#compdef %[1]s
# zsh completion of %[1]s: %[1]s completion zsh > "${fpath[1]}/_%[1]s"
_%[1]s() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[@]:0:#words[@]-1} ${cur} ` + completionFlag + `)}")
  else
    opts=("${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[@]:0:#words[@]-1} ` + completionFlag + `)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _%[1]s %[1]s
`
