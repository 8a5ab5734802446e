"""The D-Bus menu's model (tray_app.ui.freedesktop.dbusmenu.MenuModel): ids per row key,
stable across rebuilds, and the smallest change signal. Pure: no bus (the bus is in
tests/integration/test_native_tray.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("dbus_fast")

from tray_app.model import State
from tray_app.ui.freedesktop.dbusmenu import ROOT_ID, MenuModel, escape_label
from tray_app.ui.menu import Entry


def rows(dev_text: str = "222222222222 eu-central-1 - 45m left", with_ops: bool = True,
         auto: bool = True) -> list[Entry]:
    entries = [Entry(dev_text, ("refresh", "dev", "docker-config"), key="registry|dev",
                     state=State.CRITICAL)]
    if with_ops:
        entries.append(Entry("333333333333 us-west-2 - 8h left", ("refresh", "ops", "x"),
                             key="registry|ops", state=State.OK))
    entries += [Entry("", separator=True, key="separator-actions"),
                Entry("Renew automatically", ("toggle-auto-renew",), checked=auto,
                      key="toggle-auto-renew"),
                Entry("SSO corp - 3h left", key="sso|corp",
                      submenu=(Entry("Sign in...", ("sign-in", "corp"), key="sso|corp|in"),)),
                Entry("Quit", ("quit",), key="quit")]
    return entries


def ids(model: MenuModel) -> dict[str, int]:
    found = {}
    for item_id, item in model.items.items():
        label = item.properties.get("label")
        found[label.value if label else f"#{item_id}"] = item_id
    return found


def test_the_first_build_is_a_layout_with_properties_per_kind():
    model = MenuModel()
    assert model.update(rows()) == ("layout", [])
    root = model.items[ROOT_ID]
    assert len(root.children) == 6
    dev, ops, separator, toggle, sso, quit_ = (model.items[i] for i in root.children)
    assert dev.properties["icon-data"].value.startswith(b"\x89PNG")
    assert dev.properties["icon-data"].value != ops.properties["icon-data"].value  # colours
    assert separator.properties == {"type": separator.properties["type"]}
    assert separator.properties["type"].value == "separator"
    assert toggle.properties["toggle-type"].value == "checkmark"
    assert toggle.properties["toggle-state"].value == 1
    assert sso.properties["children-display"].value == "submenu" and len(sso.children) == 1
    assert quit_.action == ("quit",)


def test_a_countdown_tick_keeps_every_id_and_sends_only_properties():
    model = MenuModel()
    model.update(rows())
    before = ids(model)
    revision = model.revision
    kind, changed = model.update(rows(dev_text="222222222222 eu-central-1 - 44m left",
                                      auto=False))
    assert kind == "properties" and model.revision == revision
    after = ids(model)
    assert after["222222222222 eu-central-1 - 44m left"] == \
        before["222222222222 eu-central-1 - 45m left"]
    assert sorted(changed) == sorted([after["222222222222 eu-central-1 - 44m left"],
                                      after["Renew automatically"]])
    assert model.update(rows(dev_text="222222222222 eu-central-1 - 44m left", auto=False)) \
        is None  # nothing changed: no signal at all


def test_rows_that_come_and_go_change_the_layout_and_ids_are_never_reused():
    model = MenuModel()
    model.update(rows())
    first = ids(model)
    assert model.update(rows(with_ops=False)) == ("layout", [])
    assert "333333333333 us-west-2 - 8h left" not in ids(model)
    assert ids(model)["Quit"] == first["Quit"]
    model.update(rows())  # the login is back: a new id, not the old one
    assert ids(model)["333333333333 us-west-2 - 8h left"] > max(first.values())


def test_layout_depth_and_property_filters_follow_the_spec():
    model = MenuModel()
    model.update(rows())
    item_id, _properties, children = model.layout(ROOT_ID, 1, ["label"])
    assert item_id == ROOT_ID and len(children) == 6
    first_child = children[0].value
    assert list(first_child[1]) == ["label"] and first_child[2] == []  # depth 1: no deeper
    sso = next(c.value for c in children if c.value[1].get("label")
               and c.value[1]["label"].value.startswith("SSO"))
    assert sso[2] == []  # depth 1 stops above the submenu's rows
    assert len(model.layout(sso[0], -1, [])[2]) == 1


def test_underscores_are_not_mnemonics():
    assert escape_label("SSO my_corp") == "SSO my__corp"
