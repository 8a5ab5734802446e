"""The switch-only fast path reads a command line exactly as argparse does, or leaves it to it."""

from __future__ import annotations

import importlib
import itertools

import pytest

from tray_app.cli import COMMANDS, GLOBAL_FLAGS, build_parser, parse_args, parse_flags_only


def commands_with_switches() -> dict[str, tuple[str, ...]]:
    """Every command whose module lists FLAGS, read from the modules themselves: a command
    or a switch added later is covered without touching this test."""
    found = {}
    for name in COMMANDS:
        flags = getattr(importlib.import_module(f"tray_app.commands.{name}"), "FLAGS", None)
        if flags is not None:
            found[name] = tuple(flags)
    return found


def switch_command_lines():
    """For each such command: every set of its switches and the top-level ones, after the
    command (as typed) and before it (argparse refuses those), plus the reverse order."""
    for command, flags in commands_with_switches().items():
        switches = [*GLOBAL_FLAGS, *flags]
        for count in range(len(switches) + 1):
            for chosen in itertools.combinations(switches, count):
                yield [command, *chosen]
                yield [*chosen, command]
        yield [command, *reversed(switches)]
        yield [*GLOBAL_FLAGS, command, *reversed(flags)]


def argparse_reading(argv):
    command = next(word for word in argv if not word.startswith("-"))
    try:
        return vars(build_parser(command).parse_args(argv))
    except SystemExit:  # argparse refuses it (`status --debug`: --debug is top-level)
        return None


def test_every_switch_only_command_is_covered():
    covered = commands_with_switches()
    assert set(covered) >= {"status", "prompt"}
    assert set(covered["status"]) == {"--json", "--check", "--quiet", "--no-kubernetes"}
    lines = list(switch_command_lines())
    for command, flags in covered.items():
        assert all(any(flag in line and command in line for line in lines) for flag in flags)


@pytest.mark.parametrize("argv", list(switch_command_lines()), ids=" ".join)
def test_switches_only_give_what_argparse_gives(argv, capsys):
    command = next(word for word in argv if not word.startswith("-"))
    fast = parse_flags_only(command, argv)
    assert (vars(fast) if fast else None) == argparse_reading(argv)


@pytest.mark.parametrize("argv", [["status", "--jsn"], ["status", "--help"], ["status", "x"],
                                  ["--version", "x"], ["login", "--all"], ["status", "--json=1"]])
def test_anything_else_goes_to_argparse(argv):
    command = "status" if "status" in argv else None
    assert parse_flags_only(command, argv) is None


@pytest.mark.parametrize("argv", [["--version"], ["--version", "--debug"],
                                  ["--debug", "--version"]], ids=" ".join)
def test_version_gives_what_argparse_gives(argv):
    assert vars(parse_flags_only(None, argv)) == vars(build_parser().parse_args(argv))


def test_a_typo_still_gets_argparse_s_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["status", "--jsn"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err
