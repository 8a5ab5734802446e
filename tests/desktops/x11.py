"""What the headless X11 desktops (XFCE, KDE Plasma) share: Xvfb, a private session bus,
screenshots, a pointer, and reading the screen.

The bus starts AFTER the display and with the desktop's environment: D-Bus activated
helpers (xfconfd; kded5 = Plasma's StatusNotifierWatcher, kglobalaccel5...) get the bus
daemon's environment, so DISPLAY, HOME and XDG_* must be in it. Screenshots are
ImageMagick's ``import`` (``/usr/bin/import``), the pointer is ``xdotool`` (Qt menus ignore
the first motion after they pop up: the pointer arrives in three steps), text is read with
tesseract from a 2x, grey crop with a white margin (without the margin it garbled the last
row of a 2-row submenu). Recipes and pitfalls: /work/shared/reference/kde-xfce-headless.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from PIL import Image, ImageChops, ImageOps

from tests.desktop import wait_until
from tests.desktops.session import UserSession

WIDTH, HEIGHT = 1280, 720
LEFT_BUTTON, RIGHT_BUTTON = 1, 3
TOOLS = ("Xvfb", "xdotool", "import", "tesseract", "xwininfo", "dbus-daemon", "busctl",
         "setpriv")
Box = tuple[int, int, int, int]  # left, top, right, bottom (PIL's getbbox)


def missing_x11_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@dataclass(frozen=True)
class Word:
    text: str
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


@dataclass(frozen=True)
class Shown:
    """Something that appeared on screen: where, the screenshot, and the words read."""
    box: Box
    shot: Path
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        lines: dict[int, list[Word]] = {}
        for word in self.words:  # words of one row share their top (give or take)
            key = next((top for top in lines if abs(top - word.y) < 8), word.y)
            lines.setdefault(key, []).append(word)
        return "\n".join(" ".join(w.text for w in sorted(row, key=lambda w: w.x))
                         for _top, row in sorted(lines.items()))

    def has(self, row: str) -> bool:
        """``row`` read on screen; case aside (a checkbox beside "Start" read it "start")."""
        return row.lower() in self.text.lower()

    def word(self, text: str) -> Word:
        found = [w for w in self.words if w.text.lower() == text.lower()]
        assert found, f"{text!r} not read on screen: {self.text!r}"
        return found[0]


class X11Desktop:
    """Xvfb and a session bus for ``session``; subclasses start the desktop itself."""

    desktop_name = ""  # XDG_CURRENT_DESKTOP
    extra_env: ClassVar[dict[str, str]] = {}

    def __init__(self, session: UserSession) -> None:
        self.session = session
        self.display = ""
        self.seconds_to_ready = 0.0

    @property
    def session_env(self) -> dict[str, str]:
        return {"DISPLAY": self.display, "XDG_SESSION_TYPE": "x11",
                "XDG_CURRENT_DESKTOP": self.desktop_name, **self.extra_env}

    @property
    def app_env(self) -> dict[str, str]:
        return self.session_env

    def start_display_and_bus(self) -> None:
        s = self.session
        s.give_all()
        xvfb = s.start("xvfb", ["Xvfb", "-displayfd", "1", "-screen", "0",
                                f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"],
                       stdout=subprocess.PIPE)
        number = xvfb.stdout.readline().decode().strip()
        assert number.isdigit(), f"Xvfb reported no display: {self.log_tail('xvfb')}"
        self.display = f":{number}"
        s.start("dbus", ["dbus-daemon", "--session", "--nofork", "--nopidfile",
                         f"--address={s.bus_address}"], env=self.session_env)
        wait_until(lambda: (s.runtime / "bus").exists(), 10, "the session bus socket", 0.05)

    def log_tail(self, name: str) -> str:
        path = self.session.logs / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def spawn(self, name: str, argv: list[str]):
        return self.session.start(name, argv, env=self.session_env)

    def xrun(self, *argv: str, timeout: float = 30) -> str:
        result = self.session.run(list(argv), env=self.session_env, timeout=timeout)
        assert result.returncode == 0, f"{argv[0]} failed: {result.stderr}"
        return result.stdout

    # -- the screen ----------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        path = self.session.shots / f"{name}.png"
        self.xrun("/usr/bin/import", "-window", "root", str(path))
        return path

    def move(self, x: int, y: int) -> None:
        for dx, dy, pause in ((-12, -3, 0.15), (-4, 0, 0.15), (0, 0, 0.2)):
            self.xrun("xdotool", "mousemove", str(max(0, x + dx)), str(max(0, y + dy)))
            time.sleep(pause)

    def click(self, x: int, y: int, button: int = LEFT_BUTTON) -> None:
        self.move(x, y)
        self.xrun("xdotool", "click", str(button))

    def key(self, name: str) -> None:
        self.xrun("xdotool", "key", name)

    def park_pointer(self) -> None:
        """The pointer where nothing reacts to it (the middle of the empty desktop)."""
        self.move(WIDTH // 3, HEIGHT // 3)

    def wait_still(self, box: Box, what: str, timeout: float = 60) -> Path:
        """Two screenshots in a row, a second apart, alike in ``box`` (drawing is done)."""
        previous: list[Path] = []

        def still() -> Path | None:
            shot = self.screenshot(f"still-{len(previous) % 2}")
            same = bool(previous) and changed_box(previous[-1], shot, box) is None
            previous.append(shot)
            return shot if same else None

        return wait_until(still, timeout, what, 1.0)

    def appeared(self, before: Path, name: str, region: Box, min_height: int,
                 timeout: float = 20) -> Shown:
        """Wait for something at least ``min_height`` px tall to appear in ``region``
        compared with ``before``; read its text."""
        def shown() -> Shown | None:
            shot = self.screenshot(name)
            box = changed_box(before, shot, region)
            if box is None or box[3] - box[1] < min_height:
                return None
            time.sleep(0.5)  # let it finish drawing, then read the final picture
            shot = self.screenshot(name)
            box = changed_box(before, shot, region) or box
            return Shown(box, shot, tuple(read_words(shot, box, self.session.folder)))

        return wait_until(shown, timeout, f"{name}: something {min_height}+ px tall on screen",
                          0.5)


# -- pictures -------------------------------------------------------------------------------
def changed_box(before: Path, after: Path, region: Box, threshold: int = 20) -> Box | None:
    """The box (screen coordinates) of what differs in ``region``, or None."""
    with Image.open(before) as a, Image.open(after) as b:
        diff = ImageChops.difference(a.convert("RGB").crop(region),
                                     b.convert("RGB").crop(region)).convert("L")
    box = diff.point(lambda v: 255 if v > threshold else 0).getbbox()
    if box is None:
        return None
    return box[0] + region[0], box[1] + region[1], box[2] + region[0], box[3] + region[1]


def reddest_change(before: Path, after: Path, region: Box, threshold: int = 20,
                   min_red: int = 10) -> Box | None:
    """The box of the group of changed columns in ``region`` (gaps up to 3 px) with the
    most red pixels in ``after``: the app's icon, while a login has expired, is a red ring.
    A new tray icon moves its neighbours too (Plasma's keyboard-layout icon), so the box of
    all changes, or the largest group, may be another icon."""
    with Image.open(before) as a, Image.open(after) as b:
        first, second = a.convert("RGB").crop(region), b.convert("RGB").crop(region)
    mask = ImageChops.difference(first, second).convert("L").point(
        lambda v: 255 if v > threshold else 0)
    width, height = mask.size
    changed, colours = mask.load(), second.load()
    counts = [sum(1 for y in range(height) if changed[x, y]) for x in range(width)]
    groups, start, gap = [], None, 0
    for x, count in enumerate([*counts, 0, 0, 0, 0]):
        if count:
            start, gap = (x if start is None else start), 0
        elif start is not None:
            gap += 1
            if gap > 3:
                groups.append((start, x - gap + 1))
                start, gap = None, 0

    def red(group: tuple[int, int]) -> int:
        return sum(1 for x in range(*group) for y in range(height)
                   if colours[x, y][0] > 150 and colours[x, y][1] < 100
                   and colours[x, y][2] < 100)

    if not groups or red(best := max(groups, key=red)) < min_red:
        return None  # not drawn yet, or only the neighbours moved
    left, right = best
    column_box = mask.crop((left, 0, right, height)).getbbox()
    top, bottom = column_box[1], column_box[3]
    return left + region[0], top + region[1], right + region[0], bottom + region[1]


def centre(box: Box) -> tuple[int, int]:
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def read_words(shot: Path, box: Box, scratch: Path) -> list[Word]:
    """tesseract's words in ``box`` of ``shot``, in screen coordinates."""
    margin = 12
    crop = scratch / "ocr.png"
    with Image.open(shot) as image:
        part = image.convert("L").crop(box)
        part = part.resize((part.width * 2, part.height * 2), Image.LANCZOS)
        ImageOps.expand(part, margin, fill=255).save(crop)
    result = subprocess.run(["tesseract", str(crop), "-", "--psm", "6", "tsv"],
                            capture_output=True, text=True, timeout=120, check=False)
    words = []
    for line in result.stdout.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) < 12 or not fields[11].strip():
            continue
        left, top, width, height = (int(v) for v in fields[6:10])
        words.append(Word(fields[11].strip(), box[0] + (left - margin) // 2,
                          box[1] + (top - margin) // 2, width // 2, height // 2))
    return words
