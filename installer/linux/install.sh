#!/usr/bin/env bash
# Install ecr-token-tray for the current user on Debian/Ubuntu (Fedora with dnf), or remove it.
#
#   installer/linux/install.sh                 install or upgrade, enable autostart, start the tray
#   installer/linux/install.sh --uninstall     undo every step below
#
# Steps (each undone by --uninstall):
#   1. system packages a menu and notifications need (apt or dnf; sudo when not root) - kept
#      on uninstall, other programs may use them
#   2. a venv in ~/.local/share/ecr-token-tray/venv that sees the system PyGObject
#      (--system-site-packages) but has its own boto3/botocore (pip --ignore-installed)
#   3. the app from this checkout (or --from WHEEL_OR_DIR) into that venv
#   4. ~/.local/bin/ecr-token-tray -> the venv's program
#   5. application menu entry and icons under ~/.local/share
#   6. autostart entry (`ecr-token-tray autostart enable`)
#   7. starts the tray when a desktop session is present
# Re-running upgrades: the venv is rebuilt (the old one is restored if that fails).
# Never touched: ~/.docker, ~/.aws, ~/.ecr, Podman's auth.json, the app's config and state.
set -euo pipefail

APP=ecr-token-tray
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
CONFIG_HOME="${XDG_CONFIG_HOME:-$HOME/.config}"
STATE_HOME="${XDG_STATE_HOME:-$HOME/.local/state}"
APP_DIR="$DATA_HOME/$APP"
VENV="$APP_DIR/venv"
MANIFEST="$APP_DIR/created-dirs"   # folders this installer created, removed when empty
BIN_DIR="$HOME/.local/bin"
LINK="$BIN_DIR/$APP"
APP_ENTRY="$DATA_HOME/applications/$APP.desktop"
ICON_ROOT="$DATA_HOME/icons/hicolor"
AUTOSTART_ENTRY="$CONFIG_HOME/autostart/$APP.desktop"
SYSTEM_PYTHON="${ECR_TOKEN_TRAY_PYTHON:-/usr/bin/python3}"

APT_PACKAGES=(python3 python3-venv python3-gi gir1.2-gtk-3.0
              gir1.2-ayatanaappindicator3-0.1 libnotify-bin)
DNF_PACKAGES=(python3 python3-gobject gtk3 libayatana-appindicator-gtk3 libnotify)

say() { printf '%s\n' "$*"; }
fail() { printf '%s: %s\n' "$APP installer" "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: $0 [--uninstall] [--no-system-packages] [--no-start] [--from WHEEL_OR_DIR]

  (no option)            install or upgrade for this user and start the tray
  --uninstall            remove everything this script added (keeps config, state, Docker, AWS)
  --no-system-packages   do not install apt/dnf packages (they are already there)
  --no-start             do not start the tray now (it still starts at the next login)
  --from WHEEL_OR_DIR    install this wheel or source folder instead of $REPO_ROOT
EOF
}

# -- folders we create are recorded, so uninstall removes exactly those ---------------------
make_dir() {
  local dir="$1" missing=() parent
  parent="$dir"
  while [ ! -d "$parent" ]; do
    missing+=("$parent")
    parent="$(dirname "$parent")"
  done
  mkdir -p "$dir"
  # $APP_DIR (made first) holds the manifest and is removed whole.
  for dir in "${missing[@]}"; do
    case "$dir" in "$APP_DIR" | "$APP_DIR"/*) ;; *) echo "$dir" >>"$MANIFEST" ;; esac
  done
}

# -- processes running from our venv (an upgrade or uninstall stops them) -------------------
tray_pids() {
  local cmdline pid program
  for cmdline in /proc/[0-9]*/cmdline; do
    pid="${cmdline#/proc/}"; pid="${pid%/cmdline}"
    [ -O "$cmdline" ] && [ "$pid" != "$$" ] || continue
    # argv[0] is the venv's python (the script's shebang) or the venv's program itself
    program="$(tr '\0' '\n' <"$cmdline" 2>/dev/null | head -n 1)" || continue
    if [[ "$program" == "$VENV/bin/"* ]]; then echo "$pid"; fi
  done
}

stop_tray() {
  local pids
  pids="$(tray_pids || true)"
  [ -n "$pids" ] || return 0
  say "stopping the running tray (pid $(echo $pids))"
  # shellcheck disable=SC2086  # one pid per word
  kill -TERM $pids 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$(tray_pids || true)" ] || return 0
    sleep 0.5
  done
}

# -- 1. system packages -------------------------------------------------------------------
install_system_packages() {
  local sudo="" missing=() package
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null; then
    for package in "${APT_PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  elif command -v dnf >/dev/null; then
    say "installing system packages: ${DNF_PACKAGES[*]}"
    $sudo dnf install -y -q "${DNF_PACKAGES[@]}"
  else
    fail "no apt-get or dnf here: install PyGObject, GTK 3, Ayatana AppIndicator and\
 notify-send with your package manager, then re-run with --no-system-packages"
  fi
}

# -- 2-3. the venv and the app --------------------------------------------------------------
check_python() {
  [ -x "$SYSTEM_PYTHON" ] || fail "$SYSTEM_PYTHON not found: install python3 (3.11 or newer)"
  "$SYSTEM_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$SYSTEM_PYTHON is $("$SYSTEM_PYTHON" -V 2>&1); $APP needs Python 3.11 or newer"
  "$SYSTEM_PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
    || fail "$SYSTEM_PYTHON cannot create a venv: install python3-venv (or run without\
 --no-system-packages)"
}

app_source() {
  # pip builds inside the source folder; build a copy so the checkout stays clean.
  if [ -n "$FROM" ]; then
    [ -e "$FROM" ] || fail "--from $FROM: no such file or folder"
    echo "$FROM"
    return
  fi
  [ -f "$REPO_ROOT/pyproject.toml" ] || fail "$REPO_ROOT is not a checkout of $APP: use --from"
  local copy="$WORK_DIR/source"
  mkdir -p "$copy"
  tar -C "$REPO_ROOT" --exclude=__pycache__ --exclude='*.egg-info' \
    -cf - pyproject.toml DESCRIPTION.md LICENSE tray_app | tar -C "$copy" -xf -
  echo "$copy"
}

build_venv() {
  local source="$1"
  stop_tray
  rm -rf "$VENV.previous"
  if [ -d "$VENV" ]; then mv "$VENV" "$VENV.previous"; fi
  if ! install_into_venv "$source"; then
    rm -rf "$VENV"
    if [ -d "$VENV.previous" ]; then
      mv "$VENV.previous" "$VENV"
      fail "installing the app failed (see above); the previous version is still installed"
    fi
    fail "installing the app failed (see above)"
  fi
  rm -rf "$VENV.previous"
}

install_into_venv() {
  local source="$1"
  say "creating $VENV"
  "$SYSTEM_PYTHON" -m venv --system-site-packages "$VENV" || return 1
  say "installing $APP and its libraries into the venv (pip)"
  # --ignore-installed: the system site-packages may hold an older botocore, urllib3 or
  # Pillow (Debian's awscli pulls some in); the app must use its own, pinned by pip.
  # Its output goes to a log shown on failure: on success pip would only warn that the
  # system's awscli wants other versions, which does not concern the venv.
  # No pip cache in ~/.cache (it would outlive an uninstall) unless you chose one.
  if [ -z "${PIP_CACHE_DIR:-}" ]; then export PIP_NO_CACHE_DIR=1; fi
  if ! "$VENV/bin/python" -m pip install --ignore-installed \
      --disable-pip-version-check "$source" >"$WORK_DIR/pip.log" 2>&1; then
    tail -n 30 "$WORK_DIR/pip.log" >&2
    return 1
  fi
  check_venv
}

check_venv() {
  local where
  where="$("$VENV/bin/python" -I -c 'import boto3, botocore, PIL, tray_app
for module in (boto3, botocore, PIL, tray_app):
    print(module.__file__)')" || { say "the venv cannot import the app's libraries"; return 1; }
  while read -r file; do
    case "$file" in
      "$VENV"/*) ;;
      *) say "the venv uses $file from outside itself"; return 1 ;;
    esac
  done <<<"$where"
  if ! "$VENV/bin/python" -I -c 'import gi; gi.require_version("Gtk", "3.0")' 2>/dev/null; then
    say "note: PyGObject/GTK not found: the tray will have no menu until python3-gi and"
    say "      gir1.2-gtk-3.0 are installed (run this script without --no-system-packages)"
  fi
}

# -- 4-6. link, menu entry, icons, autostart --------------------------------------------------
check_link_is_free() {
  if [ -e "$LINK" ] && [ ! -L "$LINK" ]; then
    fail "$LINK exists and is not a link this installer made: remove it, then re-run"
  fi
}

link_program() {
  make_dir "$BIN_DIR"
  ln -sfn "$VENV/bin/$APP" "$LINK"
  case ":$PATH:" in
    *":$BIN_DIR:"*) ;;
    *) say "note: $BIN_DIR is not on your PATH; add it, or run $LINK" ;;
  esac
}

install_menu_entry_and_icons() {
  local size_dir size target
  for size_dir in "$REPO_ROOT"/assets/hicolor/*/; do
    size="$(basename "$size_dir")"
    target="$ICON_ROOT/$size/apps"
    make_dir "$target"
    install -m 0644 "$size_dir/apps/$APP.png" "$target/.$APP.png.tmp"
    mv -f "$target/.$APP.png.tmp" "$target/$APP.png"
  done
  make_dir "$(dirname "$APP_ENTRY")"
  "$VENV/bin/python" -I - "$VENV/bin/$APP" "$APP_ENTRY" <<'PY'
import sys
from pathlib import Path

from tray_app.autostart import desktop_entry
from tray_app.fileio import write_atomic

write_atomic(Path(sys.argv[2]), desktop_entry(sys.argv[1], autostart=False).encode(), 0o644)
PY
}

enable_autostart() {
  make_dir "$(dirname "$AUTOSTART_ENTRY")"
  "$VENV/bin/$APP" autostart enable
}

start_tray() {
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    say "no desktop session here: the tray starts at your next login"
    return
  fi
  setsid "$VENV/bin/$APP" tray </dev/null >/dev/null 2>&1 &
  say "tray started (pid $!)"
}

install_app() {
  if [ "$SYSTEM_PACKAGES" = yes ]; then install_system_packages; fi
  check_python
  check_link_is_free
  WORK_DIR="$(mktemp -d)"
  trap 'rm -rf "$WORK_DIR"' EXIT
  local source
  source="$(app_source)"
  make_dir "$APP_DIR"
  build_venv "$source"
  link_program
  install_menu_entry_and_icons
  enable_autostart
  say "installed $("$VENV/bin/$APP" --version) in $VENV"
  if [ "$START" = yes ]; then start_tray; fi
  say "uninstall with: $REPO_ROOT/installer/linux/install.sh --uninstall"
}

# -- --uninstall ------------------------------------------------------------------------------
uninstall_app() {
  stop_tray
  if [ -x "$VENV/bin/$APP" ]; then
    "$VENV/bin/$APP" autostart disable || true
  fi
  rm -f "$AUTOSTART_ENTRY"   # also when the venv is already broken
  rm -f "$APP_ENTRY"
  local icon
  for icon in "$ICON_ROOT"/*/apps/"$APP".png; do
    rm -f "$icon"
  done
  if [ -L "$LINK" ]; then
    case "$(readlink "$LINK")" in "$VENV"/*) rm -f "$LINK" ;; esac
  fi
  local created=()
  [ -f "$MANIFEST" ] && mapfile -t created <"$MANIFEST"
  rm -rf "$APP_DIR"
  # Deepest first; only folders we created, and only when nothing else is in them.
  printf '%s\n' "${created[@]}" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- |
    while read -r dir; do
      [ -n "$dir" ] && rmdir "$dir" 2>/dev/null || true
    done
  say "removed $APP: venv, $LINK, menu entry, icons and the autostart entry"
  say "kept: your settings in $CONFIG_HOME/$APP, state and logs in $STATE_HOME/$APP"
  say "      (remove them with: rm -r '$CONFIG_HOME/$APP' '$STATE_HOME/$APP'),"
  say "      Docker, Podman and AWS files (never touched), and the system packages"
}

MODE=install SYSTEM_PACKAGES=yes START=yes FROM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) MODE=uninstall ;;
    --no-system-packages) SYSTEM_PACKAGES=no ;;
    --no-start) START=no ;;
    --from) [ $# -ge 2 ] || fail "--from needs a wheel or folder"; FROM="$(realpath -m "$2")"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option: $1" ;;
  esac
  shift
done
[ -n "${HOME:-}" ] || fail "HOME is not set"
[ "$(uname -s)" = Linux ] || fail "this script is for Linux; see the README for macOS and Windows"

if [ "$MODE" = uninstall ]; then uninstall_app; else install_app; fi
