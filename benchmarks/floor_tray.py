"""The floor for the idle tray: the smallest pystray icon on the same backend, doing nothing.

Run by bench_tray.py with the same interpreter, environment and desktop as the app.
"""

import pystray
from PIL import Image


def main() -> None:
    image = Image.new("RGBA", (64, 64), (40, 120, 200, 255))
    icon = pystray.Icon("floor-icon", image, "floor icon")

    def setup(icon: pystray.Icon) -> None:
        icon.visible = True

    icon.run(setup)


if __name__ == "__main__":
    main()
