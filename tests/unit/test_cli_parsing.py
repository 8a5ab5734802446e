"""The switch-only fast path reads a command line exactly as argparse does, or leaves it to it."""

from __future__ import annotations

import itertools

import pytest

from tray_app.cli import build_parser, parse_args, parse_flags_only


def status_command_lines():
    switches = ["--json", "--check", "--debug"]
    for count in range(len(switches) + 1):
        for chosen in itertools.permutations(switches, count):
            yield ["status", *chosen]
            yield [*chosen, "status"]
    yield ["--debug", "status", "--check", "--json"]


def argparse_reading(argv):
    try:
        return vars(build_parser("status").parse_args(argv))
    except SystemExit:  # argparse refuses it (`status --debug`: --debug is top-level)
        return None


@pytest.mark.parametrize("argv", list(status_command_lines()), ids=" ".join)
def test_switches_only_give_what_argparse_gives(argv, capsys):
    fast = parse_flags_only("status", argv)
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
