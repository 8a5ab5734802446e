"""Real headless desktops for the tray's end-to-end tests, run as an unprivileged user:
sway + waybar + mako (StatusNotifierItem, tests/desktops/sway.py) and GNOME Shell 43 with
the AppIndicator extension (tests/desktops/gnome.py). Xvfb + trayer + dunst (XEmbed) is
tests/desktop.py."""
