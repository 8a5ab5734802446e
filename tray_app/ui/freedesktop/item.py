"""``org.kde.StatusNotifierItem``: the icon, tooltip and status a panel shows.

The item is a menu only (``ItemIsMenu``): hosts open the menu on a click, and nothing
the icon is asked to do starts a login. Hosts that ignore ``ItemIsMenu`` and call
``Activate`` on a left click (KDE Plasma 5.27) open the context menu when ``Activate``
answers an error (their fallback for libappindicator items, which have no ``Activate``):
so it answers ``NotSupported``, and hosts that honour ``ItemIsMenu`` never call it.
Each setter emits its ``New*`` signal only when the value really changed.
"""

import logging

from dbus_fast import DBusError
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from tray_app import APP_NAME

log = logging.getLogger(__name__)
INTERFACE = "org.kde.StatusNotifierItem"
ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
ACTIVATE_ERROR = "org.freedesktop.DBus.Error.NotSupported"


class StatusNotifierItem(ServiceInterface):
    def __init__(self, title: str) -> None:
        super().__init__(INTERFACE)
        self._title = title
        self._status = "Active"
        self._pixmaps: list = []
        self._tooltip: tuple[str, str] = (title, "")

    # -- what the front end changes ----------------------------------------------------------
    def set_icon(self, pixmaps: list) -> None:
        if pixmaps != self._pixmaps:
            self._pixmaps = pixmaps
            self.NewIcon()
            if self._status == "NeedsAttention":  # some hosts draw the attention icon then
                self.NewAttentionIcon()

    def set_tooltip(self, title: str, text: str) -> None:
        if (title, text) != self._tooltip:
            self._tooltip = (title, text)
            self.NewToolTip()

    def set_status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            self.NewStatus(status)

    def set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self.NewTitle()

    # -- properties ------------------------------------------------------------------------
    @dbus_property(access=PropertyAccess.READ)
    def Category(self) -> "s":
        return "ApplicationStatus"

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> "s":
        return APP_NAME

    @dbus_property(access=PropertyAccess.READ)
    def Title(self) -> "s":
        return self._title

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> "s":
        return self._status

    @dbus_property(access=PropertyAccess.READ)
    def WindowId(self) -> "i":
        return 0

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> "s":
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconName(self) -> "s":
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconPixmap(self) -> "a(iiay)":
        return self._pixmaps

    @dbus_property(access=PropertyAccess.READ)
    def OverlayIconName(self) -> "s":
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def OverlayIconPixmap(self) -> "a(iiay)":
        return []

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconName(self) -> "s":
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconPixmap(self) -> "a(iiay)":
        return self._pixmaps  # the icon itself turns red: no second image to keep

    @dbus_property(access=PropertyAccess.READ)
    def AttentionMovieName(self) -> "s":
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def ToolTip(self) -> "(sa(iiay)ss)":
        title, text = self._tooltip
        return ["", [], title, text]

    @dbus_property(access=PropertyAccess.READ)
    def ItemIsMenu(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Menu(self) -> "o":
        return MENU_PATH

    # -- methods: clicks on the icon ---------------------------------------------------------
    @dbus_method()
    def ContextMenu(self, x: "i", y: "i") -> None:
        log.debug("ContextMenu at %s,%s (the host draws the menu)", x, y)

    @dbus_method()
    def Activate(self, x: "i", y: "i") -> None:
        # Plasma's tray: "On error try to invoke the context menu" (StatusNotifierItem.qml)
        log.debug("Activate at %s,%s: answered %s so the host opens the menu", x, y,
                  ACTIVATE_ERROR)
        raise DBusError(ACTIVATE_ERROR, "the item is a menu (ItemIsMenu): open its menu")

    @dbus_method()
    def SecondaryActivate(self, x: "i", y: "i") -> None:
        log.debug("SecondaryActivate at %s,%s: nothing to do", x, y)

    @dbus_method()
    def Scroll(self, delta: "i", orientation: "s") -> None:
        pass

    # -- signals ---------------------------------------------------------------------------
    @dbus_signal()
    def NewTitle(self) -> None:
        pass

    @dbus_signal()
    def NewIcon(self) -> None:
        pass

    @dbus_signal()
    def NewAttentionIcon(self) -> None:
        pass

    @dbus_signal()
    def NewOverlayIcon(self) -> None:
        pass

    @dbus_signal()
    def NewToolTip(self) -> None:
        pass

    @dbus_signal()
    def NewStatus(self, status) -> "s":
        return status
