#!/usr/bin/env bash
# Build the PyInstaller bundle for this OS.
#   Linux: OUT/ecr-token-tray/ecr-token-tray (one folder)
#   macOS: OUT/ECR Token Tray.app
# Usage: installer/pyinstaller/build.sh [OUT]      (OUT defaults to dist/ in the checkout)
# PYTHON must have the app and PyInstaller installed; the default is the checkout's .venv
# (.ci/setup.sh gives it both), else python3.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$REPO/dist}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
case "$(uname -s)" in
  Linux) SPEC="$HERE/ecr-token-tray-linux.spec"; RESULT="$OUT/ecr-token-tray/ecr-token-tray" ;;
  Darwin) SPEC="$HERE/ecr-token-tray-macos.spec"; RESULT="$OUT/ECR Token Tray.app" ;;
  *) echo "build.sh: use build.ps1 on Windows" >&2; exit 1 ;;
esac
"$PYTHON" -c 'import PyInstaller, tray_app' 2>/dev/null || {
  echo "build.sh: $PYTHON lacks PyInstaller or the app: run" \
       "'$PYTHON -m pip install pyinstaller $REPO'" >&2
  exit 1
}
mkdir -p "$OUT"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$OUT" --workpath "$OUT/.work" "$SPEC"
rm -rf "$OUT/.work"
echo "built: $RESULT"
