"""Helm's own registry code, without a helm binary: the Go library PyPI's `helm-sdkpy`
wheel ships (libhelm_sdkpy.so, Helm's pkg/registry and its ORAS credentials store built as
a C library). Neither Debian nor PyPI ships the `helm` command itself.

``.ci/setup.sh`` runs ``python -m tests.helm_sdk``: it downloads the wheel with pip (it
wants Python 3.12, so it is unpacked, not installed; about 47 MB, once) and keeps the
library in the tests' cache (``HELM_SDK_LIBRARY`` points elsewhere). Each call runs in a
child process, since Go reads the environment (HELM_REGISTRY_CONFIG, XDG_CONFIG_HOME,
HTTPS_PROXY, SSL_CERT_FILE) once when the library loads. The password reaches the child on
stdin, never in argv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tests.wine_support import CACHE

WHEEL = "helm-sdkpy==0.1.32"
HELM_SDK_LIBRARY = Path(os.environ.get("HELM_SDK_LIBRARY")
                        or CACHE.parent / "helm-sdkpy" / "libhelm_sdkpy.so")

_CHILD = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.helm_sdkpy_last_error.restype = ctypes.c_char_p
handle = ctypes.c_ulonglong()
if lib.helm_sdkpy_config_create(b"default", None, None, b"{}", ctypes.byref(handle)):
    sys.exit("config: " + (lib.helm_sdkpy_last_error() or b"?").decode())
action, host = sys.argv[2], sys.argv[3].encode()
if action == "login":
    password = sys.stdin.read().encode()
    status = lib.helm_sdkpy_registry_login(handle, host, b"AWS", password, b"{}")
else:
    status = lib.helm_sdkpy_registry_logout(handle, host)
if status:
    sys.exit(action + ": " + (lib.helm_sdkpy_last_error() or b"?").decode())
"""


def available() -> bool:
    return HELM_SDK_LIBRARY.is_file()


def registry(action: str, host: str, env: dict[str, str], password: str = ""
             ) -> subprocess.CompletedProcess:
    """`helm registry login --username AWS --password-stdin HOST` (``action`` "login") or
    `helm registry logout HOST` ("logout"), done by Helm's own code."""
    return subprocess.run([sys.executable, "-c", _CHILD, str(HELM_SDK_LIBRARY), action, host],
                          input=password, env=env, capture_output=True, text=True,
                          timeout=120)


def prepare(target: Path = HELM_SDK_LIBRARY) -> Path:
    """Download the wheel with pip and keep only its Linux library (skipped when present)."""
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.12", "--dest", folder,
                        WHEEL], check=True, timeout=900)
        (wheel,) = Path(folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read("helm_sdkpy/_lib/linux-amd64/libhelm_sdkpy.so")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


if __name__ == "__main__":
    print(f"Helm's library: {prepare()}")
