"""The tray icon, checked by reading its pixels."""

from __future__ import annotations

import math

import pytest

from tests.builders import docker_auth, host
from tray_app.model import State
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.ui.icon import (
    BUSY_COLOUR,
    COLOURS,
    app_logo,
    icon_inputs,
    render_icon,
    tooltip_text,
)

SIZE = 64


def ring_pixel(image, degrees_clockwise_from_top: float):
    """The pixel in the middle of the ring at an angle (0 = 12 o'clock)."""
    size = image.width
    radius = size * 0.385  # margin + rim + half the ring width, as drawn
    angle = math.radians(degrees_clockwise_from_top)
    x = size / 2 + radius * math.sin(angle)
    y = size / 2 - radius * math.cos(angle)
    return image.getpixel((int(x), int(y)))


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


@pytest.mark.parametrize("state", [State.OK, State.WARNING, State.CRITICAL])
def test_ring_fill_matches_time_left_and_state_colour(state):
    image = render_icon(0.5, state, "6h", SIZE)
    assert close_to(ring_pixel(image, 45), COLOURS[state])  # inside the filled half
    assert close_to(ring_pixel(image, 135), COLOURS[state])
    assert not close_to(ring_pixel(image, 225), COLOURS[state])  # the empty half
    assert not close_to(ring_pixel(image, 315), COLOURS[state])


def test_fraction_decides_how_far_the_ring_is_filled():
    quarter = render_icon(0.25, State.OK, "3h", SIZE)
    three_quarters = render_icon(0.75, State.OK, "9h", SIZE)
    assert close_to(ring_pixel(quarter, 60), COLOURS[State.OK])
    assert not close_to(ring_pixel(quarter, 120), COLOURS[State.OK])
    assert close_to(ring_pixel(three_quarters, 240), COLOURS[State.OK])
    assert not close_to(ring_pixel(three_quarters, 300), COLOURS[State.OK])


def test_expired_shows_a_red_centre_and_no_fill():
    image = render_icon(0.0, State.EXPIRED, "!", SIZE)
    assert not close_to(ring_pixel(image, 90), COLOURS[State.OK])
    centre_ring = image.getpixel((SIZE // 2 - 9, SIZE // 2))  # beside the "!" glyph
    assert close_to(centre_ring, COLOURS[State.EXPIRED])


def test_unknown_is_grey():
    image = render_icon(None, State.UNKNOWN, "?", SIZE)
    red, green, blue, _ = ring_pixel(image, 90)
    assert max(red, green, blue) - min(red, green, blue) < 20  # no hue: grey


def test_badge_text_is_drawn_in_white():
    with_badge = render_icon(0.5, State.OK, "45m", SIZE)
    without = render_icon(0.5, State.OK, "", SIZE)
    centre = (SIZE // 4, SIZE // 4, 3 * SIZE // 4, 3 * SIZE // 4)
    badge_pixels = list(with_badge.crop(centre).get_flattened_data())
    white = [p for p in badge_pixels if min(p[:3]) > 200 and p[3] > 200]
    assert len(white) > 40
    assert badge_pixels != list(without.crop(centre).get_flattened_data())


def test_busy_look_differs_and_is_blue():
    idle = render_icon(0.5, State.OK, "6h", SIZE)
    busy = render_icon(0.5, State.OK, "6h", SIZE, busy=True)
    assert list(idle.get_flattened_data()) != list(busy.get_flattened_data())
    blue = [p for p in busy.get_flattened_data() if close_to(p, BUSY_COLOUR) and p[3] > 200]
    assert len(blue) > 100


@pytest.mark.parametrize("size", [16, 20, 22, 24, 32, 48, 64, 128])
def test_every_size_renders_square_with_transparent_corners_and_an_opaque_body(size):
    image = render_icon(0.3, State.WARNING, "45m", size)
    assert image.size == (size, size) and image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # transparent corner: fits any panel colour
    assert image.getpixel((size // 2, size // 2))[3] == 255
    light_rim = [p for p in image.get_flattened_data() if min(p[:3]) > 150 and p[3] > 0]
    assert light_rim  # a light rim keeps it visible on a dark panel


def test_small_sizes_drop_the_unit_letter_to_stay_legible():
    assert list(render_icon(0.1, State.WARNING, "45m", 16).get_flattened_data()) == list(
        render_icon(0.1, State.WARNING, "45", 16).get_flattened_data())


def test_app_logo_sizes():
    for size in (16, 32, 256):
        logo = app_logo(size)
        assert logo.size == (size, size)
        assert logo.getpixel((size // 2, size // 8))[3] == 255


def test_inputs_and_tooltip_follow_the_soonest_watched_login(home):
    home.docker_config({host("222222222222", "eu-central-1"): {"auth": docker_auth(45.5)},
                        host("333333333333", "us-west-2"): {"auth": docker_auth(540)}})
    snapshot = take_snapshot(Paths.from_env(), Settings())
    fraction, state, badge = icon_inputs(snapshot)
    assert state == State.WARNING and badge == "45m"
    assert 44 / 720 < fraction < 46 / 720
    assert tooltip_text(snapshot) == "ECR: next expiry 45m - 222222222222 eu-central-1"


def test_tooltip_stays_within_the_windows_limit():
    from tray_app.ui.icon import TOOLTIP_LIMIT
    text = tooltip_text(None, busy="Refreshing " + "x" * 300)
    assert len(text) == TOOLTIP_LIMIT and text.endswith("...")
