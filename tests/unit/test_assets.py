"""The committed icons and desktop entry are what assets/make_assets.py makes from the artwork."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.builders import REPO_ROOT

ASSETS = REPO_ROOT / "assets"
SCRIPT = ASSETS / "make_assets.py"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
# Resampling may differ by a unit between Pillow releases; a changed drawing differs by far more.
PIXEL_TOLERANCE = 3


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("assets")
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out


def relative_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def largest_difference(first: Image.Image, second: Image.Image) -> int:
    assert first.size == second.size
    diff = ImageChops.difference(first.convert("RGBA"), second.convert("RGBA"))
    return max(high for _low, high in diff.getextrema())


def test_every_generated_file_is_committed(regenerated):
    committed = relative_files(ASSETS) - {"make_assets.py", "README.md"}
    committed = {name for name in committed if "__pycache__" not in name
                 and not name.startswith("screenshots/")}  # tests/desktops/screenshots.py
    assert committed == relative_files(regenerated)


@pytest.mark.parametrize("size", PNG_SIZES)
def test_png_sizes_match_the_artwork(regenerated, size):
    name = f"hicolor/{size}x{size}/apps/ecr-token-tray.png"
    with Image.open(ASSETS / name) as committed, Image.open(regenerated / name) as fresh:
        assert committed.format == "PNG"
        assert committed.size == (size, size)
        assert committed.mode == "RGBA"
        assert largest_difference(committed, fresh) <= PIXEL_TOLERANCE


def test_windows_icon_holds_every_size(regenerated):
    with Image.open(ASSETS / "ecr-token-tray.ico") as committed, \
            Image.open(regenerated / "ecr-token-tray.ico") as fresh:
        assert committed.format == "ICO"
        assert committed.ico.sizes() == fresh.ico.sizes() == {
            (s, s) for s in (16, 24, 32, 48, 64, 128, 256)}
        for size in (16, 256):
            assert largest_difference(committed.ico.getimage((size, size)),
                                      fresh.ico.getimage((size, size))) <= PIXEL_TOLERANCE


def test_macos_icon_holds_retina_sizes(regenerated):
    with Image.open(ASSETS / "ecr-token-tray.icns") as committed, \
            Image.open(regenerated / "ecr-token-tray.icns") as fresh:
        assert committed.format == "ICNS"
        assert committed.info["sizes"] == fresh.info["sizes"]
        assert (512, 512, 2) in committed.info["sizes"]  # 1024 px for Retina
        committed.size = fresh.size = (512, 512)
        assert largest_difference(committed, fresh) <= PIXEL_TOLERANCE


def test_desktop_entry_is_current_and_valid(regenerated):
    entry = ASSETS / "ecr-token-tray.desktop"
    assert entry.read_text() == (regenerated / "ecr-token-tray.desktop").read_text()
    validate = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                              text=True, timeout=30)
    assert (validate.returncode, validate.stdout + validate.stderr) == (0, "")
