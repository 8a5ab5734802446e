"""The native Linux tray: freedesktop protocols spoken over D-Bus (dbus-fast), no GTK.

- ``item``: ``org.kde.StatusNotifierItem`` (icon as ``IconPixmap``, tooltip, status);
- ``dbusmenu``: ``com.canonical.dbusmenu``, the menu of ``tray_app.ui.menu`` over D-Bus;
- ``notifications``: ``org.freedesktop.Notifications`` with urgency, icon and action buttons;
- ``app``: the asyncio loop that wires them to the shared scheduler (``tray_app.ui.loop``).

Linux only; imported only by the tray (tests/unit/test_layering.py keeps it out of the core).
"""
