"""A fake of PyObjC's AppKit, as much as pystray's darwin backend (pystray/_darwin.py) uses.
Every call is recorded with its thread (fake_cocoa.record); NSApplication.run is a real
loop on the main thread that runs what callAfter and clicks post."""

from __future__ import annotations

import queue

import fake_cocoa
from fake_cocoa import record

NSVariableStatusItemLength = -1.0
NSApplicationDefined = 15
NSOnState, NSOffState = 1, 0
NSFontAttributeName = "NSFont"
STATUS_BAR_THICKNESS = 22.0
IDLE_LIMIT = 180  # seconds: a harness whose driver died still ends


def NSPoint(x, y):
    return (x, y)


class _Allocated:
    @classmethod
    def alloc(cls):
        return cls()


class NSApplication:
    _shared: NSApplication | None = None

    def __init__(self) -> None:
        self._stopped = False

    @classmethod
    def sharedApplication(cls):
        record("NSApplication.sharedApplication")
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def run(self) -> None:
        """AppKit's run loop: deliver events on this (the main) thread until stop_."""
        record("NSApplication.run")
        while not self._stopped:
            try:
                event = fake_cocoa.EVENTS.get(timeout=IDLE_LIMIT)
            except queue.Empty:
                raise RuntimeError(f"the fake run loop got no event for {IDLE_LIMIT} s") from None
            event()

    def stop_(self, sender) -> None:
        record("NSApplication.stop_")
        self._stopped = True  # as AppKit: takes effect once the current event is done

    def postEvent_atStart_(self, event, at_start) -> None:
        record("NSApplication.postEvent_atStart_")
        fake_cocoa.post(lambda: None)

    def terminate_(self, sender) -> None:
        record("NSApplication.terminate_")
        self._stopped = True


class NSEvent:
    @staticmethod
    def otherEventWithType_location_modifierFlags_timestamp_windowNumber_context_subtype_data1_data2_(  # noqa: E501
            *args):
        record("NSEvent.otherEvent")
        return ("event", args)


class NSButton:
    def __init__(self) -> None:
        self.image = None
        self.tooltip = None
        self.hidden = True

    def setTarget_(self, target) -> None:
        record("button.setTarget_")

    def setAction_(self, action) -> None:
        record("button.setAction_")

    def setImage_(self, image) -> None:
        record("button.setImage_")
        self.image = image

    def setToolTip_(self, text) -> None:
        record("button.setToolTip_")
        self.tooltip = text

    def setHidden_(self, hidden) -> None:
        record("button.setHidden_")
        self.hidden = hidden


class NSStatusItem:
    def __init__(self) -> None:
        self._button = NSButton()
        self.menu = None

    def button(self):
        record("statusItem.button")
        return self._button

    def setMenu_(self, menu) -> None:
        record("statusItem.setMenu_")
        self.menu = menu


class NSStatusBar:
    _system: NSStatusBar | None = None

    def __init__(self) -> None:
        self.items: list[NSStatusItem] = []

    @classmethod
    def systemStatusBar(cls):
        record("NSStatusBar.systemStatusBar")
        if cls._system is None:
            cls._system = cls()
        return cls._system

    def statusItemWithLength_(self, length):
        record("NSStatusBar.statusItemWithLength_")
        item = NSStatusItem()
        self.items.append(item)
        return item

    def removeStatusItem_(self, item) -> None:
        record("NSStatusBar.removeStatusItem_")
        self.items.remove(item)

    def thickness(self) -> float:
        record("NSStatusBar.thickness")
        return STATUS_BAR_THICKNESS


class NSImage(_Allocated):
    def initWithData_(self, data):
        record("NSImage.initWithData_")
        self.data = data
        return self

    def size(self):
        size = int(STATUS_BAR_THICKNESS)
        return (size, size)


class NSMenu(_Allocated):
    def initWithTitle_(self, title):
        record("NSMenu.initWithTitle_")
        self.title, self.items = title, []
        return self

    def setAutoenablesItems_(self, value) -> None:
        record("NSMenu.setAutoenablesItems_")

    def addItem_(self, item) -> None:
        record("NSMenu.addItem_")
        self.items.append(item)


class NSMenuItem(_Allocated):
    title = ""
    tag_value = -1
    submenu = None
    enabled = True
    separator = False

    @classmethod
    def separatorItem(cls):
        record("NSMenuItem.separatorItem")
        item = cls()
        item.separator = True
        return item

    def initWithTitle_action_keyEquivalent_(self, title, action, key):
        record("NSMenuItem.initWithTitle")
        self.title = title
        return self

    def setSubmenu_(self, menu) -> None:
        record("NSMenuItem.setSubmenu_")
        self.submenu = menu

    def setAction_(self, action) -> None:
        record("NSMenuItem.setAction_")

    def setTarget_(self, target) -> None:
        record("NSMenuItem.setTarget_")

    def setTag_(self, tag) -> None:
        record("NSMenuItem.setTag_")
        self.tag_value = tag

    def tag(self):
        return self.tag_value

    def setAttributedTitle_(self, title) -> None:
        record("NSMenuItem.setAttributedTitle_")

    def setState_(self, state) -> None:
        record("NSMenuItem.setState_")

    def setEnabled_(self, enabled) -> None:
        record("NSMenuItem.setEnabled_")
        self.enabled = enabled


class NSFont:
    @staticmethod
    def menuFontOfSize_(size):
        record("NSFont.menuFontOfSize_")
        return NSFont()

    @staticmethod
    def boldSystemFontOfSize_(size):
        record("NSFont.boldSystemFontOfSize_")
        return NSFont()

    def pointSize(self) -> float:
        return 13.0
