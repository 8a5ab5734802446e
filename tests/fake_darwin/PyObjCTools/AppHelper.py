"""A fake of PyObjCTools.AppHelper.callAfter: queue the call for the main thread's run loop
(AppKit's NSApplication.run, faked in AppKit.py), as the real one does with
performSelectorOnMainThread. ``FAKE_CALLAFTER=inline``: a deliberately wrong dispatcher that
runs the call at once on the caller's thread (the test shows the checker catches it)."""

from __future__ import annotations

import os

import fake_cocoa


def callAfter(function, *args, **kwargs):
    if os.environ.get("FAKE_CALLAFTER") == "inline":
        function(*args, **kwargs)
        return
    fake_cocoa.post(lambda: function(*args, **kwargs))
