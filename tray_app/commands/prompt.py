"""``ecr-token-tray prompt``: the login countdown for shell prompts and status bars.

``prompt init bash|zsh|fish`` prints shell code to ``eval``: a function that reads the
summary file with builtins on every prompt (no process). ``prompt`` alone prints the
segment once, for starship, tmux, waybar or i3status-rust, which run a command anyway: it
answers from the summary at once and refreshes a stale one in the background.
"""

from __future__ import annotations

from tray_app.commands import add_flags

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    import argparse

    from tray_app.settings import Paths
    from tray_app.summary import Segment

FLAGS = {
    "--tmux": "colour the segment with tmux #[fg=...] codes",
    "--waybar": "print waybar's JSON (text, class = level, tooltip)",
}
DEFAULTS = {"init": None, "shell": None}  # the positional arguments, when none are given
TMUX_COLOURS = {"expired": "red", "critical": "red", "warning": "yellow"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("init", nargs="?", choices=["init"],
                        help="print shell code to eval in your shell's startup file")
    parser.add_argument("shell", nargs="?", choices=["bash", "zsh", "fish"])
    add_flags(parser, FLAGS)


def run(args: argparse.Namespace) -> int:
    from tray_app.settings import Paths

    paths = Paths.from_env()
    if args.init:
        if not args.shell:
            from tray_app.errors import TrayAppError

            raise TrayAppError("`prompt init` needs a shell: bash, zsh or fish",
                               'e.g. eval "$(ecr-token-tray prompt init bash)"')
        print(init_code(args.shell, paths))
        return 0
    shown = current_segment(paths)
    if args.waybar:
        import json  # only here: `prompt` for tmux and starship stays lighter

        print(json.dumps({"text": shown.plain(), "class": shown.level or "ok",
                          "tooltip": "ECR logins: run `ecr-token-tray status` for details"}))
    elif args.tmux and shown.text:
        print(f"#[fg={TMUX_COLOURS[shown.level]}]{shown.plain()}#[default]")
    elif shown.text:
        print(shown.plain())
    return 0


def current_segment(paths: Paths) -> Segment:
    """The segment from the summary file, at once. A missing or stale summary is refreshed
    in the background (tray_app/service/refresh.py); a stale one shows with a ``?``."""
    import time

    from tray_app.service.login_files import login_files
    from tray_app.summary import SKEW_SECONDS, newer_than, read_summary, segment, summary_path

    now = int(time.time())
    summary, mtime = read_summary(summary_path(paths))
    files = login_files(paths)
    stale = (summary is None or newer_than(files, mtime)
             or summary.generated_at > now + SKEW_SECONDS)
    if stale:
        from tray_app.service.refresh import start_background_refresh

        start_background_refresh(paths, files)
    return segment(summary, now, stale)


def init_code(shell: str, paths: Paths) -> str:
    from tray_app.prompt_init import init_snippet
    from tray_app.service.login_files import login_files
    from tray_app.service.refresh import MARKER_FILE, refresh_command
    from tray_app.summary import summary_path

    paths.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # for the refresh marker
    return init_snippet(shell, summary_path(paths), paths.state_dir / MARKER_FILE,
                        login_files(paths), refresh_command())
