"""One module per subcommand: ``add_arguments(parser)`` and ``run(args) -> int``.

A module whose options are all on/off switches lists them in ``FLAGS`` (``--name``: help)
and adds them with :func:`add_flags`; ``cli`` then reads such a command line without
argparse.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    import argparse


def add_flags(parser: argparse.ArgumentParser, flags: dict[str, str]) -> None:
    """``--name``: help text, as on/off options (``args.name``)."""
    for flag, help_text in flags.items():
        parser.add_argument(flag, action="store_true", help=help_text)
