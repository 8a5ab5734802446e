"""Generate every icon file and the desktop entry from the one source artwork.

The source artwork is code: ``tray_app.ui.icon.app_logo(size)`` draws the logo at any
size (so the tray, notifications and these files share one drawing). This script renders
it into:

  hicolor/<N>x<N>/apps/ecr-token-tray.png   N in PNG_SIZES (the freedesktop icon theme layout)
  ecr-token-tray.ico                         Windows (PyInstaller, notifications)
  ecr-token-tray.icns                        macOS (PyInstaller .app)
  ecr-token-tray.desktop                     application-menu entry for packagers (Exec by
                                             name; the Linux installer writes its own with an
                                             absolute path)

Run it after changing the artwork and commit the results:
    python assets/make_assets.py            # into assets/
    python assets/make_assets.py --out DIR  # elsewhere (the test compares the two)
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(ASSETS_DIR.parent))  # run from a checkout without installing

from tray_app import APP_NAME  # noqa: E402
from tray_app.autostart import desktop_entry  # noqa: E402

PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)  # what Pillow's ICNS writer stores; 16 is derived


def png_path(out: Path, size: int) -> Path:
    return out / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_NAME}.png"


def generated_files(out: Path) -> list[Path]:
    """Every file this script writes, relative to ``out``'s layout."""
    files = [png_path(out, size) for size in PNG_SIZES]
    return [*files, out / f"{APP_NAME}.ico", out / f"{APP_NAME}.icns",
            out / f"{APP_NAME}.desktop"]


def render(size: int):
    from tray_app.ui.icon import app_logo

    return app_logo(size)


def png_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def make_assets(out: Path) -> list[Path]:
    renders = {size: render(size) for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    written = []
    for size in PNG_SIZES:
        path = png_path(out, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(renders[size]))
        written.append(path)

    ico = out / f"{APP_NAME}.ico"
    largest = renders[max(ICO_SIZES)]
    largest.save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                 append_images=[renders[s] for s in ICO_SIZES if s != max(ICO_SIZES)])
    written.append(ico)

    icns = out / f"{APP_NAME}.icns"
    renders[max(ICNS_SIZES)].save(icns, format="ICNS",
                                  append_images=[renders[s] for s in ICNS_SIZES])
    written.append(icns)

    entry = out / f"{APP_NAME}.desktop"
    entry.write_text(desktop_entry(APP_NAME, autostart=False), encoding="utf-8")
    written.append(entry)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    for path in make_assets(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
