"""A client that plays the panel: finds a StatusNotifierItem by its ``Id`` among the items
registered with ``org.kde.StatusNotifierWatcher``, reads its properties and drives its
``com.canonical.dbusmenu`` menu, the way waybar and GNOME's AppIndicator extension do."""

from __future__ import annotations

from dataclasses import dataclass

from tests.desktops.session import BusError, UserSession

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
MENU_INTERFACE = "com.canonical.dbusmenu"


@dataclass(frozen=True)
class MenuRow:
    id: int
    label: str
    props: dict
    depth: int

    @property
    def separator(self) -> bool:
        return self.props.get("type") == "separator"


@dataclass(frozen=True)
class Item:
    service: str
    path: str
    props: dict

    @property
    def menu_path(self) -> str | None:
        return self.props.get("Menu")


def registered_items(session: UserSession, address: str | None = None) -> list[str]:
    try:
        return list(session.get_property(WATCHER, "/StatusNotifierWatcher", WATCHER,
                                         "RegisteredStatusNotifierItems", address=address))
    except BusError:
        return []


def split_entry(entry: str) -> tuple[str, str]:
    """A watcher entry is "service", "service/object/path" (waybar, KDE) or
    "service@/object/path" (GNOME's AppIndicator extension); service may be a unique name."""
    if "@/" in entry:
        service, _, path = entry.partition("@")
        return service, path
    slash = entry.find("/")
    if slash < 0:
        return entry, "/StatusNotifierItem"
    return entry[:slash], entry[slash:]


def item_properties(session: UserSession, service: str, path: str,
                    address: str | None = None) -> dict:
    return session.call(service, path, "org.freedesktop.DBus.Properties", "GetAll", "s",
                        ITEM_INTERFACE, address=address)[0]


def find_item(session: UserSession, item_id: str, address: str | None = None) -> Item | None:
    """The registered item whose ``Id`` is ``item_id`` (None while there is none)."""
    for entry in registered_items(session, address):
        service, path = split_entry(entry)
        try:
            props = item_properties(session, service, path, address)
        except BusError:
            continue  # it went away meanwhile
        if props.get("Id") == item_id:
            return Item(service, path, props)
    return None


def menu_rows(session: UserSession, item: Item, address: str | None = None) -> list[MenuRow]:
    """GetLayout(0, -1, []) flattened; the root node is left out."""
    session.call(item.service, item.menu_path, MENU_INTERFACE, "AboutToShow", "i", 0,
                 address=address)
    _revision, layout = session.call(item.service, item.menu_path, MENU_INTERFACE,
                                     "GetLayout", "iias", 0, -1, 0, address=address)
    rows: list[MenuRow] = []

    def walk(node: list, depth: int) -> None:
        node_id, props, children = node
        if depth:
            label = str(props.get("label", "")).replace("_", "")
            rows.append(MenuRow(int(node_id), label, props, depth))
        for child in children:
            walk(child, depth + 1)

    walk(layout, 0)
    return rows


def row_starting(rows: list[MenuRow], prefix: str) -> MenuRow:
    found = [row for row in rows if row.label.startswith(prefix)]
    assert found, f"no menu row starts with {prefix!r}: {[row.label for row in rows]}"
    return found[0]


def click_row(session: UserSession, item: Item, row: MenuRow,
              address: str | None = None) -> None:
    """What a panel sends when the user clicks a row: Event(id, "clicked", 0, time)."""
    session.call(item.service, item.menu_path, MENU_INTERFACE, "Event", "isvu", row.id,
                 "clicked", "i", 0, 0, address=address)


def pixmap_sizes(item: Item) -> list[tuple[int, int]]:
    """(width, height) of each IconPixmap entry whose byte count is width*height*4 (ARGB32)."""
    return [(width, height) for width, height, data in item.props.get("IconPixmap", [])
            if width > 0 and height > 0 and len(data) == width * height * 4]


def argb_alpha(item: Item, size: int, x: int, y: int) -> int:
    """The alpha byte of one pixel of the ``size`` pixmap (ARGB32, network order: A first)."""
    for width, _height, data in item.props.get("IconPixmap", []):
        if width == size:
            return data[(y * width + x) * 4]
    raise AssertionError(f"no {size} px IconPixmap")
