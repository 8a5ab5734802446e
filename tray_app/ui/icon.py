"""The tray icon, drawn with Pillow: a countdown ring, a state colour and a short badge.

Drawn at 4x and downscaled (LANCZOS), so it stays crisp from 16 px to 64 px and on HiDPI
panels. A dark disc with a light rim keeps it readable on light and dark panels alike.
Pillow is imported inside the functions: the module itself is light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tray_app.model import Snapshot, State
from tray_app.timeutil import format_time_left, short_badge

if TYPE_CHECKING:
    from PIL import Image

FULL_RING_SECONDS = 12 * 3600  # an ECR token lives 12 h
SUPERSAMPLE = 4
TOOLTIP_LIMIT = 127  # Windows: NOTIFYICONDATA.szTip holds 128 characters with the NUL

COLOURS: dict[State, tuple[int, int, int]] = {
    State.OK: (34, 197, 94),
    State.WARNING: (245, 158, 11),
    State.CRITICAL: (239, 68, 68),
    State.EXPIRED: (220, 38, 38),
    State.UNKNOWN: (156, 163, 175),
    State.MANAGED: (34, 197, 94),
}
BUSY_COLOUR = (59, 130, 246)
DISC = (24, 24, 27, 255)
RIM = (255, 255, 255, 200)
TRACK = (82, 82, 91, 255)
EXPIRED_TRACK = (120, 60, 60, 255)
TEXT = (255, 255, 255, 255)
FONT_NAMES = ("DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf", "Helvetica.ttc")


def render_icon(fraction_left: float | None, state: State, badge: str, size: int = 64,
                busy: bool = False) -> Image.Image:
    """The tray image: ring filled by ``fraction_left`` (0..1), coloured by ``state``."""
    from PIL import Image, ImageDraw

    canvas = size * SUPERSAMPLE
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = canvas * 0.03
    small = size < 24  # thinner ring, bigger digits: text matters most at 16 px
    ring_width = max(int(canvas * (0.13 if small else 0.17)), SUPERSAMPLE * 2)
    box = (margin, margin, canvas - margin, canvas - margin)
    rim = max(int(canvas * 0.03), SUPERSAMPLE)
    inner = (box[0] + rim, box[1] + rim, box[2] - rim, box[3] - rim)
    draw.ellipse(box, fill=RIM)
    draw.ellipse(inner, fill=DISC)
    if busy:
        _dashed_ring(draw, inner, ring_width)
    else:
        track = _track_colour(state)
        draw.arc(inner, 0, 360, fill=track, width=ring_width)
        fraction = 0.0 if fraction_left is None else min(max(fraction_left, 0.0), 1.0)
        if fraction > 0:
            colour = (*COLOURS[state], 255)
            draw.arc(inner, -90, -90 + 360 * fraction, fill=colour, width=ring_width)
    if state == State.EXPIRED and not busy:
        centre_gap = ring_width + canvas * 0.02
        draw.ellipse(_shrink(inner, centre_gap), fill=(*COLOURS[State.EXPIRED], 255))
    _badge(draw, _shrink(inner, ring_width * (0.5 if small else 1)), _fit_badge(badge, size))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _track_colour(state: State) -> tuple[int, int, int, int]:
    """Warning and critical tint the whole ring, so a thin sliver still reads amber/red."""
    if state == State.EXPIRED:
        return EXPIRED_TRACK
    if state in (State.WARNING, State.CRITICAL):
        red, green, blue = COLOURS[state]
        return (red * 2 // 5 + 30, green * 2 // 5 + 30, blue * 2 // 5 + 30, 255)
    return TRACK


def _shrink(box: tuple[float, float, float, float], by: float
            ) -> tuple[float, float, float, float]:
    return (box[0] + by, box[1] + by, box[2] - by, box[3] - by)


def _dashed_ring(draw, box, width: int) -> None:
    """The busy look: a blue ring cut into segments, like a spinner."""
    for start in range(-90, 270, 45):
        draw.arc(box, start + 6, start + 39, fill=(*BUSY_COLOUR, 255), width=width)


def _fit_badge(badge: str, size: int) -> str:
    """At 16-23 px a unit letter is noise: ``45m`` -> ``45``."""
    if size < 24 and len(badge) > 2 and badge[:-1].isdigit():
        return badge[:-1]
    return badge


def _badge(draw, box, text: str) -> None:
    if not text:
        return
    width = box[2] - box[0]
    font = _font(int(width * (0.62 if len(text) <= 2 else 0.5)))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (box[0] + box[2]) / 2 - (left + right) / 2
    y = (box[1] + box[3]) / 2 - (top + bottom) / 2
    draw.text((x, y), text, font=font, fill=TEXT)


def _font(pixels: int):
    from PIL import ImageFont

    pixels = max(pixels, 4)
    for name in FONT_NAMES:
        try:
            # BASIC layout: once GTK (pystray's backend) has loaded the system HarfBuzz,
            # Pillow's Raqm layout measures text wrong (bbox of -969116 px) and renders
            # masks of ~100 M pixels: 60+ MiB of RSS and DecompressionBombErrors.
            return ImageFont.truetype(name, pixels, layout_engine=ImageFont.Layout.BASIC)
        except OSError:
            continue
    return ImageFont.load_default(size=pixels)


def app_logo(size: int) -> Image.Image:
    """The static app icon (installer assets, notifications): a clock ring on navy."""
    from PIL import Image, ImageDraw

    canvas = size * SUPERSAMPLE
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = canvas * 0.22
    draw.rounded_rectangle((0, 0, canvas - 1, canvas - 1), radius=radius,
                           fill=(30, 58, 95, 255))
    ring_box = _shrink((0, 0, canvas, canvas), canvas * 0.16)
    width = int(canvas * 0.11)
    draw.arc(ring_box, 0, 360, fill=(72, 98, 135, 255), width=width)
    draw.arc(ring_box, -90, 180, fill=(255, 153, 0, 255), width=width)
    centre = canvas / 2
    hand = canvas * 0.04
    draw.line((centre, centre, centre, canvas * 0.34), fill=TEXT, width=int(hand))
    draw.line((centre, centre, canvas * 0.63, centre), fill=TEXT, width=int(hand))
    draw.ellipse((centre - hand, centre - hand, centre + hand, centre + hand), fill=TEXT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def icon_inputs(snapshot: Snapshot | None) -> tuple[float | None, State, str]:
    """(fraction left, state, badge) for the soonest-expiring watched login."""
    if snapshot is None:
        return None, State.UNKNOWN, "…"
    soonest = snapshot.soonest()
    if soonest is not None:
        seconds = soonest.watched_seconds_left or 0
        return seconds / FULL_RING_SECONDS, soonest.state, short_badge(seconds)
    if snapshot.registries and all(r.state == State.MANAGED for r in snapshot.registries):
        return 1.0, State.OK, "ok"
    if snapshot.registries:
        return None, State.UNKNOWN, "?"
    return None, State.UNKNOWN, "-"


def icon_for(snapshot: Snapshot | None, size: int = 64, busy: bool = False) -> Image.Image:
    fraction, state, badge = icon_inputs(snapshot)
    return render_icon(fraction, state, badge, size, busy)


def tooltip_text(snapshot: Snapshot | None, busy: str | None = None) -> str:
    """``ECR: next expiry 45m - 222222222222 eu-central-1``, at most 127 characters."""
    if busy:
        text = f"ECR: {busy}"
    elif snapshot is None:
        text = "ECR: reading logins..."
    elif (soonest := snapshot.soonest()) is not None:
        left = soonest.watched_seconds_left or 0
        when = format_time_left(left) if left <= 0 else f"next expiry {format_time_left(left)}"
        text = f"ECR: {when} - {soonest.registry.label}"
    elif snapshot.registries:
        text = f"ECR: {len(snapshot.registries)} logins, no known expiry"
    else:
        text = "ECR: no logins found"
    return text if len(text) <= TOOLTIP_LIMIT else text[:TOOLTIP_LIMIT - 3] + "..."


TOOLTIP_LINES = 5


def tooltip_lines(snapshot: Snapshot | None, limit: int = TOOLTIP_LINES) -> list[str]:
    """One line per soonest-expiring watched login: ``222222222222 eu-central-1: 45m left``."""
    if snapshot is None:
        return []
    timed = sorted((r for r in snapshot.registries
                    if r.watched_seconds_left is not None and r.state != State.MANAGED),
                   key=lambda r: r.watched_seconds_left or 0)
    lines = []
    for row in timed[:limit]:
        left = row.watched_seconds_left or 0
        when = format_time_left(left) if left <= 0 else f"{format_time_left(left)} left"
        helm = " (Helm)" if row.source == "helm" else ""  # Docker's login may end later
        lines.append(f"{row.registry.label}{helm}: {when}")
    if len(timed) > limit:
        lines.append(f"and {len(timed) - limit} more")
    return lines
