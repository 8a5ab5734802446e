"""Images in the shapes the freedesktop protocols want, drawn by ``tray_app.ui.icon``.

- ``IconPixmap`` (StatusNotifierItem): ``a(iiay)``, ARGB32 in network byte order
  (bytes A, R, G, B per pixel), several sizes so each panel picks a crisp one;
- ``image-data`` (Notifications): ``(iiibiiay)``, RGBA rows;
- ``icon-data`` (dbusmenu): PNG bytes, here a coloured dot per login state.
All in memory: no temp files, no icon theme.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING

from tray_app.model import State
from tray_app.ui.icon import COLOURS, app_logo

if TYPE_CHECKING:
    from PIL import Image

ICON_SIZES = (16, 22, 24, 32, 48, 64)
DOT_PIXELS = 16
NOTIFICATION_LOGO_PIXELS = 64


def argb32(image: Image.Image) -> bytes:
    """RGBA image -> ARGB32, network byte order (what IconPixmap carries)."""
    from PIL import Image

    red, green, blue, alpha = image.convert("RGBA").split()
    return Image.merge("RGBA", (alpha, red, green, blue)).tobytes()


def icon_pixmaps(draw) -> list[list]:
    """``[[w, h, argb bytes], ...]`` for every size; ``draw(size)`` returns the image."""
    return [[size, size, argb32(draw(size))] for size in ICON_SIZES]


@lru_cache(maxsize=1)
def notification_image() -> tuple[int, int, int, bool, int, int, bytes]:
    """The app logo as ``image-data``: width, height, rowstride, has alpha, 8 bits, 4 channels."""
    image = app_logo(NOTIFICATION_LOGO_PIXELS).convert("RGBA")
    width, height = image.size
    return (width, height, width * 4, True, 8, 4, image.tobytes())


@lru_cache(maxsize=16)
def state_dot_png(state: State) -> bytes:
    """A small filled circle in the state's colour, as PNG (dbusmenu ``icon-data``)."""
    from PIL import Image, ImageDraw

    scale = 4
    canvas = DOT_PIXELS * scale
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = canvas * 0.2
    draw.ellipse((margin, margin, canvas - margin, canvas - margin),
                 fill=(*COLOURS[state], 255), outline=(0, 0, 0, 90), width=scale)
    image = image.resize((DOT_PIXELS, DOT_PIXELS), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
