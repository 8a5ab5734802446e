"""Front ends of the loop: tray icon, menu and notifications.

Importing this package is cheap; GUI libraries (pystray, PIL, plyer, gi) are imported inside
the functions that need them, so `watch` on an SSH box never loads them.
"""
