# bash completion for pipeline(1). Installed as share/bash-completion/completions/pipeline; or source it.
# Completes commands, options, the configured phase names (asked of `pipeline complete-phases`, with the
# --config on the line; upper case, matched case-insensitively) and `all`, config files for --config, folders
# for --run-dir.

_pipeline() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="run stop status verify gc"
  local global_options="--config --run-dir --log-format --log-file -v --verbose -q --quiet --help --version"
  COMPREPLY=()

  # Values of options that take one.
  case $prev in
    --config)
      local IFS=$'\n'
      COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.yaml' -- "$cur") $(compgen -f -X '!*.yml' -- "$cur"))
      compopt -o filenames 2>/dev/null
      return 0 ;;
    --run-dir)
      local IFS=$'\n'
      COMPREPLY=($(compgen -d -- "$cur"))
      compopt -o filenames 2>/dev/null
      return 0 ;;
    --log-file | --metrics-file)
      local IFS=$'\n'
      COMPREPLY=($(compgen -f -- "$cur"))
      compopt -o filenames 2>/dev/null
      return 0 ;;
    --log-format)
      COMPREPLY=($(compgen -W "text json" -- "$cur"))
      return 0 ;;
    --date | --timeout | --keep-days)
      return 0 ;;
  esac

  # The command is the first word that is neither an option nor an option's value; count positionals after it.
  local i word command="" positionals=0 config=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in
      --config)
        config=(--config "${COMP_WORDS[i + 1]}")
        ((i++)) ;;
      --run-dir | --log-format | --log-file | --metrics-file | --date | --timeout | --keep-days)
        ((i++)) ;;
      -*) ;;
      *)
        if [ -z "$command" ]; then command=$word; else ((positionals++)); fi ;;
    esac
  done

  local options=""
  case $command in
    run) options="--date --resume --metrics-file" ;;
    stop) options="--wait --timeout" ;;
    status) options="--json" ;;
    verify) options="--date --json" ;;
    gc) options="--keep-days --dry-run" ;;
  esac

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$options $global_options" -- "$cur"))
    return 0
  fi
  if [ -z "$command" ]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    return 0
  fi
  case $command in
    run | stop | status | verify)
      if ((positionals == 0)); then
        # Phase names are case-insensitive on the command line: `stop it` offers ITEM_EQUIPMENT. The phases
        # are the config's: ask the pipeline being completed (nothing when its config is broken).
        local phases
        phases=$("${COMP_WORDS[0]}" "${config[@]}" complete-phases 2>/dev/null | tr '\n' ' ')
        COMPREPLY=($(compgen -W "$phases" -- "${cur^^}"))
        [ "$command" = status ] || COMPREPLY+=($(compgen -W "all" -- "${cur,,}"))
      fi ;;
  esac
  return 0
}
complete -F _pipeline pipeline
