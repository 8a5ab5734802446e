"""``@record`` gives what typing.NamedTuple gave the core's records."""

from __future__ import annotations

import json
import pickle

import pytest

from tray_app.hosts import RegistryRef, parse_registry
from tray_app.model import SourceProblem
from tray_app.record import record
from tray_app.settings import Settings


@record
class Point:
    """A point."""

    x: int
    y: int = 0  # a default
    label: str | None = None

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


def test_fields_defaults_and_methods():
    point = Point(3, label="a")
    assert (point.x, point.y, point.label, point.norm1) == (3, 0, "a", 3)
    assert Point._fields == ("x", "y", "label")
    assert Point(x=1, y=2) == Point(1, 2) and hash(Point(1, 2)) == hash(Point(1, 2))
    assert point._replace(y=4) == Point(3, 4, "a") and isinstance(point._replace(), Point)
    assert repr(Point(1)) == "Point(x=1, y=0, label=None)"
    assert Point.__doc__ == "A point." and Point.__module__ == __name__


def test_frozen():
    point = Point(1)
    with pytest.raises(AttributeError):
        point.x = 2
    with pytest.raises(AttributeError):
        point.other = 2  # no __dict__ either


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError, match="Bad: a field without a default follows one with"):
        @record
        class Bad:
            a: int = 1
            b: int


def test_core_records_keep_their_behaviour():
    ref = parse_registry("222222222222.dkr.ecr.eu-central-1.amazonaws.com")
    assert isinstance(ref, RegistryRef) and ref.label == "222222222222 eu-central-1"
    assert pickle.loads(pickle.dumps(ref)) == ref
    assert sorted([ref._replace(host="b"), ref._replace(host="a")])[0].host == "a"
    assert len(dict.fromkeys([SourceProblem("f", "m"), SourceProblem("f", "m")])) == 1
    assert Settings().warning_minutes == 60 and Settings()._replace(warning_minutes=5)


@record
class Other:
    x: int
    y: int = 0


def test_a_record_equals_only_records_of_its_own_class():
    """Issue 18, defect 11: a named tuple equalled any tuple with the same values."""
    assert SourceProblem("a", "b") != ("a", "b")
    assert ("a", "b") != SourceProblem("a", "b")  # noqa: SIM300 - the tuple's side too
    assert Point(1, 2) != (1, 2, None) and Point(1, 2) != Other(1, 2)
    assert len({Point(1, 2), (1, 2, None), Other(1, 2)}) == 3
    with pytest.raises(TypeError):
        sorted([Point(1), (0, 0, None)])
    assert Point(1) == Point(1) and Point(1) != Point(2)


def test_json_refuses_a_record_instead_of_writing_a_list():
    """A document must say what each value is: json.dumps of a record (or of one inside a
    document) is a TypeError, not a silent list."""
    with pytest.raises(TypeError, match="SourceProblem is not JSON serializable"):
        json.dumps(SourceProblem("a", "b"))
    with pytest.raises(TypeError):
        json.dumps({"problems": [SourceProblem("a", "b")]}, indent=2)
    assert json.dumps(Point(1)._asdict()) == '{"x": 1, "y": 0, "label": null}'


def test_still_usable_by_position():
    x, y, label = Point(1, 2)
    assert (x, y, label) == (1, 2, None) and Point(1, 2)[1] == 2 and len(Point(1)) == 3
    assert tuple(Point(1, 2)) == (1, 2, None)
    with pytest.raises(TypeError, match="missing the argument 'x'"):
        Point()
    with pytest.raises(TypeError, match="unexpected or repeated arguments: z"):
        Point(1, z=3)
