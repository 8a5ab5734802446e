"""Make the README's tray pictures on the real headless desktops the tests use.

    .venv/bin/python -m tests.desktops.screenshots [OUTDIR]    (default: assets/screenshots)

Builds the wheel into a fresh plain venv (as pipx / uv install it), starts sway + waybar +
mako, then GNOME Shell 43 with the AppIndicator extension, then KDE Plasma 5.27 and XFCE
4.18 on Xvfb (``plasma-menu.png``, ``xfce-menu.png``: the menu and the "Never expires"
submenu as it first opens; renewal off there), runs ``ecr-token-tray`` in a
HOME with three ECR logins (9 min left, expired 1 h ago, 9 h left; no AWS keys, so nothing
renews behind the picture's back), opens the menu with a pointer click and keeps the panel
and the menu: ``waybar-menu.png`` and ``gnome-menu.png``, cropped with ImageMagick's
``convert -crop``. Needs root or the desktops' packages, like the tests (.ci/setup.sh).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops

from tests.builders import REPO_ROOT, FakeHome, docker_auth
from tests.desktop import wait_until
from tests.desktops import gnome, sway
from tests.desktops.app import APP_ID, EXPIRED, LATER, SOON, build_plain_venv
from tests.desktops.session import (
    APP_TAG,
    UserSession,
    end_process,
    remove_folder,
    world_readable_folder,
)

MARGIN = 12


def picture_home(session: UserSession) -> None:
    home = FakeHome(session.home, {"HOME": str(session.home)})
    home.docker_config({SOON: {"auth": docker_auth(10)}, EXPIRED: {"auth": docker_auth(-60)},
                        LATER: {"auth": docker_auth(540)}})
    session.give(session.home)


def start_tray(session: UserSession, venv: Path, env: dict[str, str]):
    process = session.start("app", [str(venv / "bin" / "ecr-token-tray")],
                            env={**env, APP_TAG: "picture"})
    from tests.desktops import sni

    wait_until(lambda: sni.find_item(session, APP_ID), 30, "the item to register")
    return process


def crop(source: Path, target: Path, left: int, bottom: int, width: int) -> Path:
    """Keep the top-right corner: the panel and the menu under it."""
    x = max(0, left - MARGIN)
    box = f"{width - x}x{bottom + MARGIN}+{x}+0"
    subprocess.run(["convert", str(source), "-crop", box, "+repage", "-strip", str(target)],
                   check=True, timeout=60)
    return target


def waybar_picture(venv: Path, out: Path, vptr: Path) -> Path:
    session = UserSession(world_readable_folder("ecr-tray-picture-sway-"))
    try:
        picture_home(session)
        with sway.running_sway_desktop(session, vptr) as desktop:
            app = start_tray(session, venv, desktop.app_env)
            wait_until(desktop.notifications, 30, "the expiry notification")
            desktop.dismiss_notifications()
            parked = (sway.TRAY_ICON_AT[0] - 600, 400)  # the pointer, off the picture
            desktop.move(*parked)
            time.sleep(0.5)
            before = desktop.screenshot("docked")
            desktop.click(*sway.TRAY_ICON_AT, sway.RIGHT_BUTTON)

            def menu_box():
                after = desktop.screenshot("menu")
                with Image.open(before) as a, Image.open(after) as b:
                    box = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox()
                return box if box and box[3] - box[1] > 150 else None

            wait_until(menu_box, 10, "the menu")
            desktop.move(*parked)
            time.sleep(0.5)
            left, _top, _right, bottom = menu_box()
            end_process(app)
            return crop(desktop.session.shots / "menu.png", out / "waybar-menu.png", left,
                        bottom, sway.WIDTH)
    finally:
        session.stop()
        remove_folder(session.folder)


def gnome_picture(venv: Path, out: Path) -> Path:
    session = UserSession(world_readable_folder("ecr-tray-picture-gnome-"))
    try:
        picture_home(session)
        with gnome.running_gnome_desktop(session) as desktop:
            desktop.dismiss_session_notices()
            app = start_tray(session, venv, desktop.app_env)
            indicator = wait_until(lambda: (i := desktop.indicator(APP_ID)) and i["iconLoaded"]
                                   and i, 30, "the icon in the top bar")
            wait_until(lambda: all(i["sensitive"] for i in desktop.indicator(APP_ID)["items"]
                                   if i["label"]), 30, "every row enabled (start-up done)")
            time.sleep(2)  # the start-up notifications
            wait_until(lambda: desktop.dismiss_banner() or desktop.banner() is None, 20,
                       "no banner over the desktop")
            time.sleep(1)  # the banner's slide-out
            x, y, width, height = indicator["box"]
            desktop.click(x + width / 2, y + height / 2)
            wait_until(lambda: desktop.indicator(APP_ID)["menuShown"], 10, "the menu")
            time.sleep(0.5)
            left, top, _w, menu_height = desktop.eval_json(
                gnome.indicator_js(APP_ID) + "const m = ind.menu.actor; return"
                " m.get_transformed_position().concat(m.get_transformed_size());")
            shot = desktop.screenshot("menu")
            end_process(app)
            return crop(shot, out / "gnome-menu.png", int(left), int(top + menu_height),
                        gnome.WIDTH)
    finally:
        session.stop()
        remove_folder(session.folder)


def x11_picture(kind: str, venv: Path, out: Path) -> Path:
    """``plasma-menu.png`` / ``xfce-menu.png``: the panel's icon, its menu (right click)
    and the "Never expires" submenu as it first opens; quantized to keep the PNG small."""
    from tests.desktops import kde, x11, xfce
    from tests.desktops.x11_tray import dock

    running = kde.running_kde_desktop if kind == "plasma" else xfce.running_xfce_desktop
    session = UserSession(world_readable_folder(f"ecr-tray-picture-{kind}-"))
    try:
        with running(session) as desktop:
            tray = dock(desktop, venv)
            menu = tray.open_menu(x11.RIGHT_BUTTON, "menu")
            submenu = tray.submenu_beside(menu, "submenu")
            boxes = (tray.icon, menu.box, submenu.box)
            box = (max(0, min(b[0] for b in boxes) - MARGIN),
                   max(0, min(b[1] for b in boxes) - MARGIN),
                   min(x11.WIDTH, max(b[2] for b in boxes) + MARGIN),
                   min(x11.HEIGHT, max(b[3] for b in boxes) + MARGIN))
            target = out / f"{kind}-menu.png"
            with Image.open(submenu.shot) as shot:
                shot.convert("RGB").crop(box).quantize(
                    256, method=Image.Quantize.FASTOCTREE).save(target, optimize=True)
            end_process(tray.app.process)
            return target
    finally:
        session.stop()
        remove_folder(session.folder)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "assets" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    from tests.desktops import kde, xfce

    missing = (sway.missing_tools() + gnome.missing_tools() + kde.missing_tools()
               + xfce.missing_tools())
    if missing:
        print(f"missing: {', '.join(missing)} (run .ci/setup.sh)", file=sys.stderr)
        return 2
    work = world_readable_folder("ecr-tray-pictures-")
    try:
        venv = build_plain_venv(work / "app")
        vptr = sway.build_virtual_pointer(work / "vptr")
        for made in (waybar_picture(venv, out, vptr), gnome_picture(venv, out),
                     x11_picture("plasma", venv, out), x11_picture("xfce", venv, out)):
            print(made)
    finally:
        remove_folder(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
