"""`migcheck completion bash|zsh|fish`: a completion script made from the argument parser itself,
so every command and option the parser knows is completed and none it does not.

Each script completes the command names after `migcheck`, then the options of the command given
(with their choices, such as `--format`'s formats and `--mode`'s modes), and file names elsewhere.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from ..report import FORMATS


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    choices: tuple[str, ...]  # the values it takes, when fixed
    takes_value: bool


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    words: tuple[str, ...] = ()  # the values its operand takes, when fixed (`completion bash`)


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    out = []
    for action in parser._actions:  # argparse's own record of what it parses
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        choices = tuple(str(c) for c in action.choices) if action.choices else ()
        if not choices and action.metavar == "FMT[:FILE]":  # a report's format, and a file after `:` if wanted
            choices = tuple(FORMATS)
        out.append(Option(tuple(action.option_strings), _one_line(action.help or ""), choices, action.nargs != 0))
    return tuple(out)


def _one_line(text: str) -> str:
    text = " ".join(text.replace("%%", "%").split())
    return text if len(text) <= 70 else text[:67] + "..."


def commands(parser: argparse.ArgumentParser) -> list[Command]:
    """The parser's commands with their options, in `--help` order."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help or "" for c in sub._choices_actions}
    return [Command(name, _one_line(helps.get(name, "")), _options(p), _words(p)) for name, p in sub.choices.items()]


def _words(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    return tuple(str(c) for a in parser._actions if not a.option_strings and a.choices for c in a.choices)


def _bash_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def bash(parser: argparse.ArgumentParser) -> str:
    cmds = commands(parser)
    lines = ["# bash completion for migcheck: eval \"$(migcheck completion bash)\"",
             "_migcheck() {",
             "    local cur prev cmd",
             '    cur="${COMP_WORDS[COMP_CWORD]}"',
             '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
             '    cmd="${COMP_WORDS[1]}"',
             "    if [ \"$COMP_CWORD\" -eq 1 ]; then",
             f"        COMPREPLY=($(compgen -W {_bash_quote(' '.join(c.name for c in cmds) + ' --help --version')}"
             ' -- "$cur"))',
             "        return",
             "    fi",
             '    case "$cmd" in']
    for c in cmds:
        lines.append(f"    {c.name})")
        lines.append('        case "$prev" in')
        for o in c.options:
            if o.choices:
                lines.append(f"            {'|'.join(o.flags)}) COMPREPLY=($(compgen -W "
                             f"{_bash_quote(' '.join(o.choices))} -- \"$cur\")); return;;")
        lines.append("        esac")
        flags = " ".join(f for o in c.options for f in o.flags)
        lines.append(f"        if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W {_bash_quote(flags)} "
                     '-- "$cur")); return; fi')
        if c.words:
            lines.append(f"        COMPREPLY=($(compgen -W {_bash_quote(' '.join(c.words))} -- \"$cur\")); return")
        lines.append(";;")
    lines += ["    esac", '    COMPREPLY=($(compgen -f -- "$cur"))', "}",
              "complete -o filenames -F _migcheck migcheck", ""]
    return "\n".join(lines)


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_spec(o: Option) -> list[str]:
    """The `_arguments` specs of one option (one per spelling, each excluding the others)."""
    text = o.help.replace("[", "(").replace("]", ")").replace(":", " ")
    value = (f":value:({' '.join(o.choices)})" if o.choices else ":value:_files") if o.takes_value else ""
    exclude = f"({' '.join(o.flags)})" if len(o.flags) > 1 else ""
    return [_zsh_quote(f"{exclude}{flag}[{text}]{value}") for flag in o.flags]


def zsh(parser: argparse.ArgumentParser) -> str:
    cmds = commands(parser)
    lines = ["#compdef migcheck", "# zsh completion for migcheck: migcheck completion zsh > \"${fpath[1]}/_migcheck\"",
             "_migcheck() {", "    local -a commands", "    commands=("]
    lines += [f"        {_zsh_quote(c.name + ':' + c.help.replace(':', ' '))}" for c in cmds]
    lines += ["    )", "    if (( CURRENT == 2 )); then", "        _describe 'command' commands", "        return",
              "    fi", "    case $words[2] in"]
    for c in cmds:
        operand = f"'1:{c.name}:({' '.join(c.words)})'" if c.words else "'*:file:_files'"
        specs = [s for o in c.options for s in _zsh_spec(o)]
        lines.append(f"    {c.name})")
        lines.append("        _arguments -s " + " \\\n            ".join(specs + [operand]))
        lines.append("        ;;")
    lines += ["    esac", "}", 'if [ "$funcstack[1]" = "_migcheck" ]; then', '    _migcheck "$@"', "else",
              "    compdef _migcheck migcheck", "fi", ""]
    return "\n".join(lines)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(parser: argparse.ArgumentParser) -> str:
    cmds = commands(parser)
    names = " ".join(c.name for c in cmds)
    lines = ["# fish completion for migcheck: migcheck completion fish > ~/.config/fish/completions/migcheck.fish",
             "complete -c migcheck -f"]
    lines += [f"complete -c migcheck -n {_fish_quote('not __fish_seen_subcommand_from ' + names)} -a {c.name} "
              f"-d {_fish_quote(c.help)}" for c in cmds]
    for c in cmds:
        when = _fish_quote(f"__fish_seen_subcommand_from {c.name}")
        lines.append(f"complete -c migcheck -n {when} -x -a {_fish_quote(' '.join(c.words))}" if c.words else
                     f"complete -c migcheck -n {when} -F")  # its operands: fixed words, or files
        for o in c.options:
            spec = " ".join(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in o.flags)
            value = (f" -x -a {_fish_quote(' '.join(o.choices))}" if o.choices else " -r -F") if o.takes_value else ""
            lines.append(f"complete -c migcheck -n {when} {spec}{value} -d {_fish_quote(o.help)}")
    return "\n".join(lines) + "\n"


SHELLS = {"bash": bash, "zsh": zsh, "fish": fish}


def cmd_completion(args) -> int:
    sys.stdout.write(SHELLS[args.shell](args.parser))
    return 0
