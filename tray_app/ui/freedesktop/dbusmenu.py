"""``com.canonical.dbusmenu``: the tray menu of ``tray_app.ui.menu`` served over D-Bus.

The panel (waybar, GNOME's AppIndicator extension, KDE) asks for the layout when the user
opens the menu and sends ``Event(id, "clicked")`` for a click. Item ids are kept per row key
(``Entry.key``), so the same row keeps its id across rebuilds and an open menu stays valid;
a row that goes away takes its id with it (ids are never reused). A change of texts, checks
or enabled flags is sent as ``ItemsPropertiesUpdated``; a change of rows as ``LayoutUpdated``,
plus ``ItemsPropertiesUpdated`` for the rows that stayed and changed: GNOME's AppIndicator
extension re-reads only "type" and "children-display" of ids it knows on LayoutUpdated.

Qt hosts (libdbusmenu-qt, KDE Plasma's tray) ask ``GetLayout(id, 1)``, one level at a time,
and fill a submenu only when it is about to open: Qt has placed it by then, still empty
(Plasma put it 4 px from the screen's right edge). So when a reply leaves out a submenu's
rows, ``LayoutUpdated(revision, submenu)`` follows, once per revision and submenu: the host
fetches the rows before the submenu ever opens, and again after the rows changed.
Hosts that read the whole tree (``GetLayout(0, -1)``: GTK's libdbusmenu, GNOME) get none.
Everything here runs on the asyncio thread of ``tray_app.ui.freedesktop.app``.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from dbus_fast import DBusError, Variant
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from tray_app.ui.freedesktop.pixmaps import state_dot_png
from tray_app.ui.menu import Action, Entry

log = logging.getLogger(__name__)
INTERFACE = "com.canonical.dbusmenu"
ROOT_ID = 0
NO_SUCH_ITEM = "com.canonical.dbusmenu.Error.NoSuchItem"


@dataclass(frozen=True)
class Item:
    id: int
    properties: dict[str, Variant]
    children: tuple[int, ...]
    action: Action | None
    enabled: bool


def escape_label(text: str) -> str:
    """dbusmenu labels use ``_`` as the mnemonic marker: a literal one is written ``__``."""
    return text.replace("_", "__")


def entry_properties(entry: Entry) -> dict[str, Variant]:
    if entry.separator:
        return {"type": Variant("s", "separator")}
    properties = {"label": Variant("s", escape_label(entry.text)),
                  "enabled": Variant("b", entry.enabled),
                  "visible": Variant("b", True)}
    if entry.checked is not None:
        properties["toggle-type"] = Variant("s", "checkmark")
        properties["toggle-state"] = Variant("i", 1 if entry.checked else 0)
    if entry.submenu:
        properties["children-display"] = Variant("s", "submenu")
    if entry.state is not None:
        properties["icon-data"] = Variant("ay", state_dot_png(entry.state))
    return properties


class MenuModel:
    """Entries -> items with stable ids; tells what changed since the last ``update``."""

    def __init__(self) -> None:
        self.revision = 0
        self.items: dict[int, Item] = {ROOT_ID: Item(ROOT_ID, {"children-display":
                                                              Variant("s", "submenu")},
                                                      (), None, True)}
        self._ids: dict[str, int] = {}
        self._next_id = ROOT_ID + 1

    def update(self, entries: list[Entry]) -> tuple[str, list[int]] | None:
        """Rebuild from ``entries``: ("layout", ids) when rows came or went, ("properties",
        ids) when only properties changed, None when nothing did; ``ids`` are the rows that
        stayed and whose properties changed."""
        old = self.items
        new: dict[int, Item] = {}
        root_children = self._build(entries, new)
        new[ROOT_ID] = Item(ROOT_ID, old[ROOT_ID].properties, root_children, None, True)
        self._ids = {key: item_id for key, item_id in self._ids.items() if item_id in new}
        self.items = new
        changed = [i for i, item in new.items()
                   if i in old and item.properties != old[i].properties]
        if any(old.get(i) is None or old[i].children != item.children
               for i, item in new.items()) or old.keys() != new.keys():
            self.revision += 1
            return ("layout", changed)
        return ("properties", changed) if changed else None

    def _build(self, entries: tuple[Entry, ...] | list[Entry], into: dict[int, Item]
               ) -> tuple[int, ...]:
        ids = []
        for position, entry in enumerate(entries):
            key = entry.key or f"position-{position}-{entry.text}"
            item_id = self._ids.get(key)
            if item_id is None or item_id in into:  # a duplicate key gets its own id
                item_id = self._next_id
                self._next_id += 1
                self._ids.setdefault(key, item_id)
            children = self._build(entry.submenu, into) if entry.submenu else ()
            into[item_id] = Item(item_id, entry_properties(entry), children, entry.action,
                                 entry.enabled)
            ids.append(item_id)
        return tuple(ids)

    def layout(self, item_id: int, depth: int, names: list[str],
               left_out: list[int] | None = None) -> list:
        """The node ``item_id`` down to ``depth`` levels (-1: all); the submenus whose rows
        did not fit go to ``left_out``."""
        item = self.items.get(item_id)
        if item is None:
            raise DBusError(NO_SUCH_ITEM, f"no menu item {item_id}")
        children = []
        if depth != 0:
            for child in item.children:
                children.append(Variant("(ia{sv}av)",
                                        self.layout(child, depth - 1, names, left_out)))
        elif item.children and left_out is not None:
            left_out.append(item.id)
        return [item.id, self.properties(item.id, names), children]

    def properties(self, item_id: int, names: list[str] | None = None) -> dict[str, Variant]:
        item = self.items[item_id]
        if not names:
            return dict(item.properties)
        return {name: value for name, value in item.properties.items() if name in names}


class DBusMenu(ServiceInterface):
    """The menu object (``/MenuBar``). ``on_click(action)`` runs a row's action."""

    def __init__(self, on_click: Callable[[Action], None],
                 on_about_to_show: Callable[[], None] | None = None) -> None:
        super().__init__(INTERFACE)
        self.model = MenuModel()
        self._on_click = on_click
        self._on_about_to_show = on_about_to_show or (lambda: None)
        self._announced: set[tuple[int, int]] = set()  # (revision, submenu id)

    def show(self, entries: list[Entry]) -> None:
        """Publish new entries; emits only what changed."""
        change = self.model.update(entries)
        if change is None:
            return
        kind, ids = change
        if ids:
            updated = [[i, self.model.properties(i)] for i in ids]
            self.ItemsPropertiesUpdated(updated, [])
        if kind == "layout":
            self.LayoutUpdated(self.model.revision, ROOT_ID)

    # -- methods ---------------------------------------------------------------------------
    @dbus_method()
    def GetLayout(self, parentId: "i", recursionDepth: "i", propertyNames: "as"
                  ) -> "u(ia{sv}av)":
        left_out: list[int] = []
        layout = self.model.layout(parentId, recursionDepth, propertyNames, left_out)
        self._announce(left_out)
        return [self.model.revision, layout]

    def _announce(self, submenus: list[int]) -> None:
        """LayoutUpdated for each submenu a reply left unfilled, after the reply (signals
        and replies reach the host in the order sent); see the module's docstring."""
        revision = self.model.revision
        new = [i for i in submenus if (revision, i) not in self._announced]
        if not new:
            return
        self._announced = {key for key in self._announced if key[0] == revision}
        self._announced.update((revision, i) for i in new)
        loop = asyncio.get_running_loop()
        for item_id in new:
            loop.call_soon(self._layout_updated_if_current, revision, item_id)

    def _layout_updated_if_current(self, revision: int, item_id: int) -> None:
        if revision == self.model.revision and item_id in self.model.items:
            self.LayoutUpdated(revision, item_id)

    @dbus_method()
    def GetGroupProperties(self, ids: "ai", propertyNames: "as") -> "a(ia{sv})":
        wanted = ids or [i for i in self.model.items if i != ROOT_ID]
        return [[i, self.model.properties(i, propertyNames)] for i in wanted
                if i in self.model.items]

    @dbus_method()
    def GetProperty(self, id: "i", name: "s") -> "v":
        if id not in self.model.items:
            raise DBusError(NO_SUCH_ITEM, f"no menu item {id}")
        value = self.model.items[id].properties.get(name)
        if value is None:
            raise DBusError("com.canonical.dbusmenu.Error.NoSuchProperty",
                            f"menu item {id} has no property {name}")
        return value

    @dbus_method()
    def Event(self, id: "i", eventId: "s", data: "v", timestamp: "u") -> None:
        if id not in self.model.items:
            raise DBusError(NO_SUCH_ITEM, f"no menu item {id}")
        self._event(id, eventId)

    @dbus_method()
    def EventGroup(self, events: "a(isvu)") -> "ai":
        errors = [event[0] for event in events if event[0] not in self.model.items]
        if errors and len(errors) == len(events):
            raise DBusError(NO_SUCH_ITEM, "none of the menu items exist")
        for item_id, event_id, _data, _timestamp in events:
            if item_id in self.model.items:
                self._event(item_id, event_id)
        return errors

    @dbus_method()
    def AboutToShow(self, id: "i") -> "b":
        if id not in self.model.items:
            raise DBusError(NO_SUCH_ITEM, f"no menu item {id}")
        if id == ROOT_ID:
            self._on_about_to_show()
        return False

    @dbus_method()
    def AboutToShowGroup(self, ids: "ai") -> "aiai":
        errors = [i for i in ids if i not in self.model.items]
        if ROOT_ID in ids:
            self._on_about_to_show()
        return [[], errors]

    def _event(self, item_id: int, event_id: str) -> None:
        item = self.model.items[item_id]
        if event_id != "clicked":
            return  # "opened", "closed", "hovered": nothing to do
        if item.action is None or not item.enabled:
            log.info("menu click on item %s ignored (no action or disabled)", item_id)
            return
        self._on_click(item.action)

    # -- properties ------------------------------------------------------------------------
    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> "u":
        return 3

    @dbus_property(access=PropertyAccess.READ)
    def TextDirection(self) -> "s":
        return "ltr"

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> "s":
        return "normal"

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> "as":
        return []

    # -- signals ---------------------------------------------------------------------------
    @dbus_signal()
    def ItemsPropertiesUpdated(self, updated, removed) -> "a(ia{sv})a(ias)":
        return [updated, removed]

    @dbus_signal()
    def LayoutUpdated(self, revision, parent) -> "ui":
        return [revision, parent]

    @dbus_signal()
    def ItemActivationRequested(self, id, timestamp) -> "iu":
        return [id, timestamp]
