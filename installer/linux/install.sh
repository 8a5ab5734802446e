#!/usr/bin/env bash
# Install ecr-token-tray for the current user on Debian/Ubuntu (Fedora with dnf), or remove it.
#
#   installer/linux/install.sh                 install or upgrade (the tray on a desktop,
#                                              the command line only on a server)
#   ~/.local/share/ecr-token-tray/uninstall.sh undo every step below (a copy of this script
#                                              the install leaves; --uninstall does the same)
#
# First it checks, and changes nothing when a check fails: the Python (3.11 or newer), sudo
# or root (only when a system package is missing), a desktop session or not. Then:
#   1. system packages: python3-venv; on a desktop whose tray needs GTK (an X tray without
#      a StatusNotifier host, or --with-gtk) also PyGObject and GTK - kept on uninstall
#   2. a venv in ~/.local/share/ecr-token-tray/venv that sees the system PyGObject
#      (--system-site-packages) but has its own boto3/botocore (pip --ignore-installed)
#   3. the app from this checkout (or --from WHEEL_OR_DIR) into that venv
#   4. ~/.local/bin/ecr-token-tray -> the venv's program; ~/.local/share/ecr-token-tray/uninstall.sh
#   5. desktop only: application menu entry and icons under ~/.local/share
#   6. desktop only: start at login (`ecr-token-tray autostart enable`)
#   7. desktop only: starts the tray in the desktop session (also from an SSH or TTY shell:
#      the session's DISPLAY, WAYLAND_DISPLAY, D-Bus address are taken from its processes)
# Re-running upgrades: a running tray is stopped and started again afterwards in the same
# session; if the new version fails to install, the old venv comes back and its tray starts.
# Never touched: ~/.docker, ~/.aws, ~/.ecr, Podman's auth.json, the app's config and state.
set -euo pipefail

APP=ecr-token-tray
SCRIPT="$(realpath "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd "$(dirname "$SCRIPT")/../.." && pwd)"
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
CONFIG_HOME="${XDG_CONFIG_HOME:-$HOME/.config}"
STATE_HOME="${XDG_STATE_HOME:-$HOME/.local/state}"
APP_DIR="$DATA_HOME/$APP"
VENV="$APP_DIR/venv"
UNINSTALLER="$APP_DIR/uninstall.sh"
MANIFEST="$APP_DIR/created-dirs"      # folders this installer created, removed when empty
PACKAGES_RECORD="$APP_DIR/system-packages"  # what it installed with apt/dnf (kept on uninstall)
BIN_DIR="$HOME/.local/bin"
LINK="$BIN_DIR/$APP"
APP_ENTRY="$DATA_HOME/applications/$APP.desktop"
ICON_ROOT="$DATA_HOME/icons/hicolor"
AUTOSTART_ENTRY="$CONFIG_HOME/autostart/$APP.desktop"
PYTHON="${ECR_TOKEN_TRAY_PYTHON:-/usr/bin/python3}"
PATH_MARK="# added by the $APP installer (--ensure-path)"
DOCKER_CONFIG_FILE="${DOCKER_CONFIG:-$HOME/.docker}/config.json"
WRAPPER_MARK="# written by $APP credhelper"

BASE_APT=(python3 python3-venv)
GTK_APT=(python3-gi gir1.2-gtk-3.0 libnotify-bin)
BASE_DNF=(python3)
GTK_DNF=(python3-gobject gtk3 libnotify)
# The desktop session's variables a tray needs (read from a running process when this
# shell has none).
SESSION_VARS=(DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR
              XDG_CURRENT_DESKTOP XDG_SESSION_TYPE SWAYSOCK I3SOCK HYPRLAND_INSTANCE_SIGNATURE)

say() { printf '%s\n' "$*"; }
fail() { printf '%s: %s\n' "$APP installer" "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: $0 [--uninstall] [--desktop | --cli-only] [--with-gtk] [--no-system-packages]
          [--no-start] [--ensure-path] [--replace-link] [--from WHEEL_OR_DIR]

  (no option)            install or upgrade for this user: the tray on a desktop, the
                         command line only on a machine without a desktop session
  --uninstall            remove everything this script added (keeps config, state, Docker, AWS)
  --desktop              install the tray, menu entry and start at login even though no
                         desktop session is running now (it starts at your next login)
  --cli-only             the command line only: no tray packages, menu entry or autostart
  --with-gtk             also install PyGObject and GTK (the XEmbed tray: trayer, stalonetray,
                         i3bar); otherwise only when the desktop's tray needs them
  --no-system-packages   do not install apt/dnf packages (they are already there)
  --no-start             do not start the tray now
  --ensure-path          add ~/.local/bin to PATH in your shell's startup file if missing
  --replace-link         replace ~/.local/bin/$APP when it is another install's link
                         (pipx, uv); without it the installer stops (or asks, in a terminal)
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

# -- credhelper wrappers: never deleted while Docker's config.json names them ---------------
# The app writes them to ~/.local/bin (or a folder the user chose), never into the venv; an
# older version wrote them beside its own program, in the venv's bin. Before that folder
# goes (upgrade or uninstall), a wrapper of ours that config.json still names moves to
# ~/.local/bin, where Docker keeps finding it (if that folder is on Docker's PATH).
rescue_wrappers() {
  local bin="$1" wrapper name
  for wrapper in "$bin"/docker-credential-ecr-login-*; do
    [ -f "$wrapper" ] && grep -qF "$WRAPPER_MARK" "$wrapper" || continue
    name="$(basename "$wrapper")"
    grep -qF "\"${name#docker-credential-}\"" "$DOCKER_CONFIG_FILE" 2>/dev/null || continue
    if [ -e "$BIN_DIR/$name" ]; then
      say "kept: $BIN_DIR/$name (Docker's config.json uses $name; the venv's copy goes)"
      continue
    fi
    mkdir -p "$BIN_DIR"
    mv "$wrapper" "$BIN_DIR/$name"
    say "moved $name to $BIN_DIR: Docker's config.json uses it"
  done
}

# -- processes: the running tray, the desktop session ---------------------------------------
own_pids() {
  local entry pid
  for entry in /proc/[0-9]*; do
    pid="${entry#/proc/}"
    [ -O "$entry/environ" ] && [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] && echo "$pid"
  done
}

venv_pids() {  # every process running from the venv: the tray, `watch`, a prompt's `status`
  local pid program
  for pid in $(own_pids); do
    # argv[0] is the venv's python (the script's shebang) or the venv's program itself
    program="$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n 1)" || continue
    if [[ "$program" == "$VENV/bin/"* ]]; then echo "$pid"; fi
  done
}

is_tray_command() {  # process $1's command is the tray: `ecr-token-tray [--flags] [tray ...]`
  local argv=() arg found=no
  mapfile -d '' -t argv 2>/dev/null <"/proc/$1/cmdline" || return 1
  for arg in "${argv[@]}"; do
    if [ "$found" = no ]; then
      if [[ "$arg" == */bin/"$APP" ]]; then found=yes; fi
      continue
    fi
    case "$arg" in
      --version | -h | --help) return 1 ;;
      -*) ;;                      # a global flag (--debug) before the command
      tray) return 0 ;;
      *) return 1 ;;              # another command: watch, status, login ...
    esac
  done
  [ "$found" = yes ]              # no command: the tray is the default
}

tray_pids() {  # only the tray: other venv processes decide neither restart nor session
  local pid
  for pid in $(venv_pids); do
    if is_tray_command "$pid"; then echo "$pid"; fi
  done
}

declare -A SESSION=()
SESSION_FROM=""
TRAY_ARGS=(tray)

read_session_of() {  # the session variables of process $1
  local line name
  SESSION=()
  while IFS= read -r line; do
    name="${line%%=*}"
    if [[ " ${SESSION_VARS[*]} " == *" $name "* ]] && [ -n "${line#*=}" ]; then
      SESSION[$name]="${line#*=}"
    fi
  done < <(tr '\0' '\n' 2>/dev/null <"/proc/$1/environ")
}

has_display() { [ -n "${SESSION[DISPLAY]:-}${SESSION[WAYLAND_DISPLAY]:-}" ]; }

# Where the desktop session is: the running tray's, else this shell's, else a process of
# this user's session (same HOME) that has a display. None: no desktop session.
find_session() {
  local pid name
  pid="$(tray_pids | head -n 1)"
  if [ -n "$pid" ]; then
    read_session_of "$pid"
    if has_display; then SESSION_FROM="the running tray (pid $pid)"; return; fi
  fi
  SESSION=()
  for name in "${SESSION_VARS[@]}"; do
    if [ -n "${!name:-}" ]; then SESSION[$name]="${!name}"; fi
  done
  if has_display; then SESSION_FROM="this shell"; return; fi
  local ours=" $(echo $(venv_pids)) "
  for pid in $(own_pids); do
    [[ "$ours" != *" $pid "* ]] || continue  # `watch` in a terminal is no desktop session
    grep -qxzF "HOME=$HOME" "/proc/$pid/environ" 2>/dev/null || continue
    grep -qzE '^(DISPLAY|WAYLAND_DISPLAY)=.' "/proc/$pid/environ" 2>/dev/null || continue
    read_session_of "$pid"
    if has_display; then
      SESSION_FROM="your desktop session (pid $pid, $(cat "/proc/$pid/comm" 2>/dev/null))"
      return
    fi
  done
  SESSION=()
}

# 0: a StatusNotifierWatcher owns its name on the session bus; 1: not; 2: cannot tell.
sni_watcher() {
  local bus="${SESSION[DBUS_SESSION_BUS_ADDRESS]:-}" answer
  if [ -z "$bus" ] && [ -S "${SESSION[XDG_RUNTIME_DIR]:-/nonexistent}/bus" ]; then
    bus="unix:path=${SESSION[XDG_RUNTIME_DIR]}/bus"
  fi
  [ -n "$bus" ] || return 2
  if command -v dbus-send >/dev/null; then
    answer="$(DBUS_SESSION_BUS_ADDRESS="$bus" timeout 5 dbus-send --session --print-reply \
      --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
      string:org.kde.StatusNotifierWatcher 2>/dev/null)" || return 2
  elif command -v gdbus >/dev/null; then
    answer="$(DBUS_SESSION_BUS_ADDRESS="$bus" timeout 5 gdbus call --session \
      --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner org.kde.StatusNotifierWatcher 2>/dev/null)" \
      || return 2
  else
    return 2
  fi
  [[ "$answer" == *true* ]]
}

stop_tray() {  # the tray, and other processes of the venv (its programs go away)
  local pids others
  pids="$(tray_pids || true)"
  others="$(venv_pids | grep -vxF -e "${pids:-none}" || true)"
  [ -n "$pids$others" ] || return 0
  if [ -n "$pids" ]; then say "stopping the running tray (pid $(echo $pids))"; fi
  if [ -n "$others" ]; then say "stopping other $APP processes from $VENV (pid $(echo $others))"; fi
  # shellcheck disable=SC2086  # one pid per word
  kill -TERM $pids $others 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$(venv_pids || true)" ] || return 0
    sleep 0.5
  done
}

remember_tray_args() {  # the running tray's arguments, to start it again the same way
  local pid argv=() arg found=no
  pid="$(tray_pids | head -n 1)"
  [ -n "$pid" ] || return 0
  mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || return 0
  TRAY_ARGS=()
  for arg in "${argv[@]}"; do
    if [ "$found" = yes ]; then TRAY_ARGS+=("$arg"); fi
    if [[ "$arg" == */bin/"$APP" ]]; then found=yes; fi
  done
  [ "${#TRAY_ARGS[@]}" -gt 0 ] || TRAY_ARGS=(tray)
}

in_session() {  # run a command with the session find_session found (none: as it is)
  local assignments=() unset=() name
  for name in "${SESSION_VARS[@]}"; do
    if [ -n "${SESSION[$name]:-}" ]; then assignments+=("$name=${SESSION[$name]}")
    elif [ "$name" != XDG_RUNTIME_DIR ]; then unset+=(-u "$name"); fi
  done
  env "${unset[@]}" "${assignments[@]}" "$@"
}

start_tray() {  # in the session find_session found
  local pid log
  log="$WORK_DIR/tray-start.log"
  in_session setsid "$VENV/bin/$APP" "${TRAY_ARGS[@]}" </dev/null >"$log" 2>&1 &
  pid=$!
  # A tray that cannot show (no panel, display gone) says so and exits: report that.
  for _ in 1 2 3 4; do
    sleep 0.5
    if ! kill -0 "$pid" 2>/dev/null; then
      say "the tray did not stay running: $(tail -n 1 "$log")"
      say "  (run \`$APP doctor\` in your desktop session to see why)"
      return
    fi
  done
  say "tray started (pid $pid; desktop session of $SESSION_FROM)"
}

# -- checks: nothing changes until they pass -------------------------------------------------
python_version() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null; }

# The distribution's interpreter (under /usr) sees the system's PyGObject (python3-gi);
# others (pyenv, /usr/local, uv's) do not. A venv counts as the interpreter it was made from.
is_system_python() {
  "$PYTHON" -c 'import sys; sys.exit(sys.base_prefix != "/usr")' 2>/dev/null
}

check_python() {  # $1: may a package manager still install it
  local version
  if [ ! -x "$PYTHON" ]; then
    if [ -n "${ECR_TOKEN_TRAY_PYTHON:-}" ]; then
      fail "ECR_TOKEN_TRAY_PYTHON=$PYTHON: no such program; point it at Python 3.11 or newer"
    fi
    [ "$1" = yes ] && return 0
    fail "$PYTHON not found: install python3 (3.11 or newer), or set ECR_TOKEN_TRAY_PYTHON"
  fi
  version="$(python_version "$PYTHON")" || fail "$PYTHON does not run: point\
 ECR_TOKEN_TRAY_PYTHON at Python 3.11 or newer"
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    fail "$PYTHON is Python $version; $APP needs 3.11 or newer: install a newer Python, then\
 re-run with ECR_TOKEN_TRAY_PYTHON=/path/to/python3.11 (nothing was changed)"
  fi
  if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    if ! is_system_python; then
      fail "$PYTHON cannot create a venv (no ensurepip): point ECR_TOKEN_TRAY_PYTHON at\
 another Python 3.11 or newer"
    fi
    [ "$1" = yes ] && return 0
    fail "$PYTHON cannot create a venv: install python3-venv, or run without\
 --no-system-packages"
  fi
}

missing_packages() {  # the arguments that are not installed (apt or dnf)
  local package
  for package in "$@"; do
    if command -v dpkg-query >/dev/null; then
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || echo "$package"
    elif command -v rpm >/dev/null; then
      rpm -q "$package" >/dev/null 2>&1 || echo "$package"
    else
      echo "$package"
    fi
  done
}

# Decide the system packages, and that we may install them, before changing anything.
plan_system_packages() {
  local wanted=() manager=""
  PACKAGES=() SUDO=""
  if command -v apt-get >/dev/null; then
    manager=apt
    # Another interpreter (ECR_TOKEN_TRAY_PYTHON) uses neither python3-venv nor python3-gi.
    if [ -x "$PYTHON" ] && ! is_system_python; then return 0; fi
    wanted=("${BASE_APT[@]}")
    if [ "$GTK" = yes ]; then wanted+=("${GTK_APT[@]}"); fi
  elif command -v dnf >/dev/null; then
    manager=dnf
    wanted=("${BASE_DNF[@]}")
    if [ "$GTK" = yes ]; then wanted+=("${GTK_DNF[@]}"); fi
  fi
  if [ -z "$manager" ]; then
    [ "$GTK" = yes ] || [ -x "$PYTHON" ] || fail "no apt-get or dnf here: install Python\
 3.11 or newer, then re-run with --no-system-packages"
    [ "$GTK" = yes ] && fail "no apt-get or dnf here: install PyGObject and GTK 3 with your\
 package manager, then re-run with --no-system-packages"
    return 0
  fi
  [ "${#wanted[@]}" -gt 0 ] || return 0
  mapfile -t PACKAGES < <(missing_packages "${wanted[@]}")
  [ "${#PACKAGES[@]}" -gt 0 ] || return 0
  PACKAGE_MANAGER="$manager"
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "${PACKAGES[*]} must be installed ($manager) but you\
 are not root and there is no sudo: ask an administrator to run \`$manager install\
 ${PACKAGES[*]}\`, then re-run with --no-system-packages (nothing was changed)"
    SUDO=sudo
  fi
}

install_system_packages() {
  [ "${#PACKAGES[@]}" -gt 0 ] || return 0
  say "installing system packages: ${PACKAGES[*]}"
  if [ "$PACKAGE_MANAGER" = apt ]; then
    $SUDO apt-get update -qq
    # env: sudo's env_reset would drop a variable set before it
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${PACKAGES[@]}" >/dev/null
  else
    $SUDO dnf install -y -q "${PACKAGES[@]}"
  fi
}

# ~/.local/bin/ecr-token-tray may be another install's (pipx, uv tool, pip --user): taking it
# over silently would hide that install, which its own upgrades then keep updating unseen.
check_link_is_free() {
  LINK_NOTE=""
  [ -e "$LINK" ] || [ -L "$LINK" ] || return 0
  if [ ! -L "$LINK" ]; then
    if grep -qs 'tray_app' "$LINK"; then
      fail "$LINK is the $APP that pip installed (pip install --user): run \`pip uninstall\
 $APP\` first, then re-run"
    fi
    fail "$LINK exists and is not a link this installer made: remove it, then re-run"
  fi
  local target what fix after=""
  target="$(readlink "$LINK")"
  case "$target" in "$VENV"/*) return 0 ;; esac  # ours, from an earlier install
  if [ ! -e "$LINK" ]; then  # a broken link: replacing it loses nothing
    LINK_NOTE="replaced $LINK, a broken link to $target"
    return 0
  fi
  case "$target" in
    */pipx/venvs/*)
      what="pipx's link to $target ($APP installed with pipx)"
      fix="run \`pipx uninstall $APP\` first" ;;
    */uv/tools/*)
      what="uv's link to $target ($APP installed with \`uv tool install\`)"
      fix="run \`uv tool uninstall $APP\` first"
      # uv removes the name it installed, whatever it points to by then
      after="; \`uv tool uninstall $APP\` would delete this link too: re-run this installer\
 after it" ;;
    *)
      what="a link to $target, not one this installer made"
      fix="remove it first" ;;
  esac
  if [ "$REPLACE_LINK" = no ] && [ -t 0 ] && [ -t 2 ]; then
    local answer=""
    printf '%s is %s.\nReplace it with a link to this install? [y/N] ' "$LINK" "$what" >&2
    read -r answer || true
    case "$answer" in [yY] | [yY][eE][sS]) REPLACE_LINK=yes ;; esac
  fi
  if [ "$REPLACE_LINK" = yes ]; then
    LINK_NOTE="replaced $LINK, $what (that install itself is left as it was$after)"
    return 0
  fi
  fail "$LINK is $what; nothing was changed: $fix, or re-run with --replace-link to point\
 the link at this install instead"
}

# -- 2-3. the venv and the app --------------------------------------------------------------
app_source() {
  # pip builds inside the source folder; build a copy so the checkout stays clean.
  if [ -n "$FROM" ]; then
    echo "$FROM"
    return
  fi
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
  if install_into_venv "$source"; then
    rescue_wrappers "$VENV.previous/bin"
    rm -rf "$VENV.previous"
    return
  fi
  rm -rf "$VENV"
  if [ -d "$VENV.previous" ]; then
    mv "$VENV.previous" "$VENV"
    if [ "$WAS_RUNNING" = yes ]; then start_tray; fi
    fail "installing the new version failed (see above); the previous version\
 ($("$VENV/bin/$APP" --version 2>/dev/null || echo "?")) is still installed"
  fi
  fail "installing the app failed (see above); nothing is installed"
}

install_into_venv() {
  local source="$1"
  say "creating $VENV"
  "$PYTHON" -m venv --system-site-packages "$VENV" || return 1
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
}

gtk_note() {  # when the desktop's tray needs GTK and this venv cannot import it
  [ "$GTK" = yes ] || return 0
  "$VENV/bin/python" -I -c 'import gi; gi.require_version("Gtk", "3.0")' 2>/dev/null \
    && return 0
  if ! is_system_python; then
    say "note: $PYTHON is not the system Python, so the venv cannot use the system's"
    say "      PyGObject: XEmbed trays (trayer, stalonetray, i3bar) get no icon. Desktops"
    say "      with a StatusNotifier host (KDE, GNOME + AppIndicator, waybar, XFCE) work."
    say "      For XEmbed, re-run without ECR_TOKEN_TRAY_PYTHON (uses /usr/bin/python3)."
  else
    say "note: PyGObject/GTK is not installed: XEmbed trays (trayer, stalonetray, i3bar)"
    say "      get no icon. Install python3-gi gir1.2-gtk-3.0 (or re-run this script"
    say "      without --no-system-packages)."
  fi
}

# -- 4-6. link, menu entry, icons, autostart --------------------------------------------------
link_program() {
  make_dir "$BIN_DIR"
  ln -sfn "$VENV/bin/$APP" "$LINK"
}

install_uninstaller() {
  install -m 0755 "$SCRIPT" "$UNINSTALLER.tmp"
  mv -f "$UNINSTALLER.tmp" "$UNINSTALLER"
}

user_shell() { basename "${SHELL:-$(getent passwd "$(id -un)" | cut -d: -f7)}"; }

path_line() {  # what to add, and where, for the user's shell
  case "$(user_shell)" in
    zsh) echo "$HOME/.zshrc|export PATH=\"\$HOME/.local/bin:\$PATH\"" ;;
    fish) echo "$CONFIG_HOME/fish/config.fish|fish_add_path -g \$HOME/.local/bin" ;;
    bash) echo "$HOME/.bashrc|export PATH=\"\$HOME/.local/bin:\$PATH\"" ;;
    *) echo "$HOME/.profile|export PATH=\"\$HOME/.local/bin:\$PATH\"" ;;
  esac
}

check_path() {
  case ":$PATH:" in *":$BIN_DIR:"*) return ;; esac
  local file line
  IFS='|' read -r file line <<<"$(path_line)"
  if [ "$ENSURE_PATH" = yes ]; then
    add_path_line "$file" "$line"
    # bash login shells read ~/.bash_profile or ~/.profile, not ~/.bashrc (as pipx does)
    if [ "$(user_shell)" = bash ]; then
      if [ -f "$HOME/.bash_profile" ]; then add_path_line "$HOME/.bash_profile" "$line"
      else add_path_line "$HOME/.profile" "$line"; fi
    fi
    say "open a new terminal to use \`$APP\` (or run $LINK)"
    return
  fi
  say "note: $BIN_DIR is not on your PATH. Add this line to ${file/#$HOME/\~}, then open a"
  say "      new terminal:  $line"
  say "      (or re-run with --ensure-path, which adds it; meanwhile run $LINK)"
}

add_path_line() {  # $1 file, $2 line: appended once, marked
  if [ -f "$1" ] && grep -qF "$PATH_MARK" "$1"; then return; fi
  mkdir -p "$(dirname "$1")"
  printf '\n%s\n%s\n' "$PATH_MARK" "$2" >>"$1"
  say "added $BIN_DIR to PATH in $1"
}

install_menu_entry_and_icons() {
  local size_dir size target
  for size_dir in "$REPO_ROOT"/assets/hicolor/*/; do
    [ -f "$size_dir/apps/$APP.png" ] || continue
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
  # XDG autostart, or on sway/Hyprland/i3 a systemd user unit or the line to add to their
  # config (the app decides from the session). Folders it creates are recorded for uninstall.
  local dirs=("$CONFIG_HOME" "$CONFIG_HOME/autostart" "$CONFIG_HOME/systemd"
              "$CONFIG_HOME/systemd/user" "$CONFIG_HOME/systemd/user/graphical-session.target.wants")
  local dir absent=() output
  for dir in "${dirs[@]}"; do [ -d "$dir" ] || absent+=("$dir"); done
  output="$(in_session "$VENV/bin/$APP" autostart enable 2>&1)" || true
  say "$output"
  for dir in "${absent[@]}"; do [ ! -d "$dir" ] || echo "$dir" >>"$MANIFEST"; done
}

# -- install ----------------------------------------------------------------------------------
# Does the app being installed speak StatusNotifierItem itself (tray_app/ui/freedesktop)?
app_has_native_tray() {
  local source="${FROM:-$REPO_ROOT}"
  if [ -d "$source" ]; then
    [ -d "$source/tray_app/ui/freedesktop" ]
  else
    "$PYTHON" -c 'import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit(not any(n.startswith("tray_app/ui/freedesktop/") for n in names))' "$source" 2>/dev/null
  fi
}

decide_desktop() {
  find_session
  if [ "$DESKTOP" = auto ]; then
    if has_display; then DESKTOP=yes
    # An upgrade keeps what the first install set up, even when run with no session.
    elif [ -f "$APP_ENTRY" ] || [ -f "$AUTOSTART_ENTRY" ]; then DESKTOP=yes
    else DESKTOP=no; fi
  fi
  if [ "$GTK" = auto ]; then
    GTK=no
    if [ "$DESKTOP" = yes ]; then
      if ! has_display; then GTK=yes  # the next login's desktop is unknown: cover XEmbed
      elif ! app_has_native_tray; then GTK=yes  # an older app: pystray needs GTK for a menu
      elif [ -n "${SESSION[DISPLAY]:-}" ]; then
        local watcher=0
        sni_watcher || watcher=$?
        # No StatusNotifier host on an X desktop: the XEmbed tray needs GTK.
        [ "$watcher" -eq 0 ] || GTK=yes
      fi
    fi
  fi
}

install_app() {
  [ -z "$FROM" ] || [ -e "$FROM" ] || fail "--from $FROM: no such file or folder"
  [ -n "$FROM" ] || [ -f "$REPO_ROOT/pyproject.toml" ] || fail "$REPO_ROOT is not a checkout\
 of $APP: use --from"
  decide_desktop
  check_python "$SYSTEM_PACKAGES"
  PACKAGES=()
  if [ "$SYSTEM_PACKAGES" = yes ]; then plan_system_packages; fi
  check_link_is_free
  # -- checks passed: from here on things change --
  WORK_DIR="$(mktemp -d)"
  trap 'rm -rf "$WORK_DIR"' EXIT
  install_system_packages
  [ "${#PACKAGES[@]}" -eq 0 ] || check_python no
  WAS_RUNNING=no
  if [ -n "$(tray_pids)" ]; then WAS_RUNNING=yes; remember_tray_args; fi
  local source previous_packages=""
  source="$(app_source)"
  [ -f "$PACKAGES_RECORD" ] && previous_packages="$(cat "$PACKAGES_RECORD")"
  make_dir "$APP_DIR"
  build_venv "$source"
  link_program
  [ -z "$LINK_NOTE" ] || say "$LINK_NOTE"
  install_uninstaller
  if [ "${#PACKAGES[@]}" -gt 0 ] || [ -n "$previous_packages" ]; then
    printf '%s\n' $previous_packages "${PACKAGES[@]}" | sort -u | sed '/^$/d' >"$PACKAGES_RECORD"
  fi
  if [ "$DESKTOP" = yes ]; then
    install_menu_entry_and_icons
    enable_autostart
  fi
  say "installed $("$VENV/bin/$APP" --version) in $VENV"
  if [ "$DESKTOP" = yes ]; then
    gtk_note
    if [ "$START" = no ]; then
      :
    elif has_display; then
      start_tray
    else
      say "no desktop session is running: the tray starts at your next desktop login"
    fi
  else
    cli_only_pointers
  fi
  check_path
  say "uninstall with: ${UNINSTALLER/#$HOME/\~}"
}

cli_only_pointers() {
  say "no desktop session found: installed the command line only (no tray, menu entry or"
  say "autostart; re-run with --desktop for those). Try:"
  say "  $APP status     every ECR login and the time it has left"
  say "  $APP watch      the same, live, with notifications and automatic renewal"
  say "  $APP login      log in again where needed"
  if "$VENV/bin/$APP" prompt --help >/dev/null 2>&1; then
    say "  $APP prompt     a segment for your shell prompt (see \`$APP prompt --help\`)"
  fi
  say "now:"
  "$VENV/bin/$APP" status 2>&1 | sed 's/^/  /' || true
}

# -- --uninstall ------------------------------------------------------------------------------
# The sway/Hyprland/i3 start at login (tray_app/autostart_wm.py), for when the venv that
# would remove it is broken: the unit only if it starts our venv's program, the link only
# if it points at that unit.
remove_systemd_unit() {
  local unit="$CONFIG_HOME/systemd/user/$APP.service" ours=no changed=no
  local wants="$CONFIG_HOME/systemd/user/graphical-session.target.wants/$APP.service"
  if [ -f "$unit" ] && { grep -qF "ExecStart=$VENV/bin/" "$unit" \
                         || grep -qF "ExecStart=\"$VENV/bin/" "$unit"; }; then ours=yes; fi
  if [ -L "$wants" ] && [ "$(readlink "$wants")" = "$unit" ] \
      && { [ "$ours" = yes ] || [ ! -e "$unit" ]; }; then
    rm -f "$wants"; changed=yes
  fi
  if [ "$ours" = yes ]; then rm -f "$unit"; changed=yes; fi
  if [ "$changed" = yes ]; then
    systemctl --user daemon-reload >/dev/null 2>&1 || true
  fi
}

uninstall_app() {
  local removed=()
  stop_tray
  if [ -f "$AUTOSTART_ENTRY" ]; then removed+=("start at login ($AUTOSTART_ENTRY)"); fi
  if [ -x "$VENV/bin/$APP" ]; then
    "$VENV/bin/$APP" autostart disable >/dev/null || true
  fi
  rm -f "$AUTOSTART_ENTRY"   # also when the venv is already broken
  remove_systemd_unit
  if [ -f "$APP_ENTRY" ]; then removed+=("the menu entry"); rm -f "$APP_ENTRY"; fi
  local icon icons=no
  for icon in "$ICON_ROOT"/*/apps/"$APP".png; do
    if [ -f "$icon" ]; then icons=yes; rm -f "$icon"; fi
  done
  if [ "$icons" = yes ]; then removed+=("the icons"); fi
  if [ -L "$LINK" ]; then
    case "$(readlink "$LINK")" in "$VENV"/*) rm -f "$LINK"; removed+=("$LINK") ;; esac
  fi
  local created=() packages=()
  [ -f "$MANIFEST" ] && mapfile -t created <"$MANIFEST"
  [ -f "$PACKAGES_RECORD" ] && mapfile -t packages <"$PACKAGES_RECORD"
  if [ -d "$APP_DIR" ]; then removed=("$APP_DIR (the venv)" "${removed[@]}"); fi
  rescue_wrappers "$VENV/bin"
  rm -rf "$APP_DIR"   # the venv, this script's copy, the records
  # Deepest first; only folders we created, and only when nothing else is in them.
  printf '%s\n' "${created[@]}" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- |
    while read -r dir; do
      [ -n "$dir" ] && rmdir "$dir" 2>/dev/null || true
    done
  if [ "${#removed[@]}" -gt 0 ]; then
    local joined
    joined="$(printf '%s, ' "${removed[@]}")"
    say "removed $APP: ${joined%, }"
  else
    say "$APP is not installed for $(id -un) (nothing in $APP_DIR): nothing to remove"
  fi
  local kept=()
  [ -d "$CONFIG_HOME/$APP" ] && kept+=("$CONFIG_HOME/$APP")
  [ -d "$STATE_HOME/$APP" ] && kept+=("$STATE_HOME/$APP")
  if [ "${#kept[@]}" -gt 0 ]; then
    say "kept: ${kept[*]} (your settings, state and log; remove with: rm -r ${kept[*]})"
  fi
  if [ "${#packages[@]}" -gt 0 ]; then
    say "kept: the system packages it installed (${packages[*]}); other programs may use them"
  fi
  local file rc_files=()
  for file in "$HOME/.bashrc" "$HOME/.bash_profile" "$HOME/.profile" "$HOME/.zshrc" \
      "$CONFIG_HOME/fish/config.fish"; do
    if [ -f "$file" ] && grep -qF "$PATH_MARK" "$file"; then rc_files+=("$file"); fi
  done
  if [ "${#rc_files[@]}" -gt 0 ]; then
    say "kept: the PATH line --ensure-path added to ${rc_files[*]}"
  fi
  local wrapper wrappers=()
  for wrapper in "$BIN_DIR"/docker-credential-ecr-login-*; do
    if [ -f "$wrapper" ] && grep -qF "$WRAPPER_MARK" "$wrapper"; then wrappers+=("$wrapper"); fi
  done
  if [ "${#wrappers[@]}" -gt 0 ]; then
    say "kept: ${wrappers[*]} (credential-helper wrappers Docker may still run; \`$APP\
 credhelper disable --all\` before uninstalling takes the registries back and removes them)"
  fi
  say "never touched: Docker, Podman and AWS files"
}

MODE=install SYSTEM_PACKAGES=yes START=yes FROM="" DESKTOP=auto GTK=auto ENSURE_PATH=no
REPLACE_LINK=no
if [ "$(basename "$0")" = uninstall.sh ]; then MODE=uninstall; fi
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) MODE=uninstall ;;
    --no-system-packages) SYSTEM_PACKAGES=no ;;
    --no-start) START=no ;;
    --desktop) DESKTOP=yes ;;
    --cli-only) DESKTOP=no GTK=no ;;
    --with-gtk) GTK=yes ;;
    --ensure-path) ENSURE_PATH=yes ;;
    --replace-link) REPLACE_LINK=yes ;;
    --from) [ $# -ge 2 ] || fail "--from needs a wheel or folder"; FROM="$(realpath -m "$2")"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option: $1" ;;
  esac
  shift
done
[ -n "${HOME:-}" ] || fail "HOME is not set"
[ "$(uname -s)" = Linux ] || fail "this script is for Linux; see the README for macOS and Windows"

if [ "$MODE" = uninstall ]; then uninstall_app; else install_app; fi
