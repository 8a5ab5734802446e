"""Real headless desktops for the tray's end-to-end tests, run as an unprivileged user:
sway + waybar + mako (StatusNotifierItem, tests/desktops/sway.py), GNOME Shell 43 with
the AppIndicator extension (tests/desktops/gnome.py), and on Xvfb XFCE 4.18
(tests/desktops/xfce.py) and KDE Plasma 5.27 (tests/desktops/kde.py), which share
tests/desktops/x11.py and x11_tray.py. Xvfb + trayer + dunst (XEmbed) is tests/desktop.py."""
