"""reviewtool.record against what `@dataclass(frozen=True)` makes of the same class.

Records stand in for frozen dataclasses everywhere in reviewtool (to keep `dataclasses` and
`inspect` out of every command's start), so each behaviour the code relies on is compared
with the real thing: construction (positional, keyword, defaults, factories, wrong calls),
equality, hashing, repr, immutability, `replace`, `fields`, inheritance and class-body
overrides.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewtool import record


def _pair(body: dict[str, Any], annotations: dict[str, str], name: str = "Thing") -> tuple[type, type]:
    """The same class body made a record and a frozen dataclass."""
    def ns(field: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"__annotations__": dict(annotations), "__qualname__": name, "__module__": __name__}
        for k, v in body.items():
            out[k] = field(default_factory=v.factory) if isinstance(v, _Factory) else v
        return out
    mine = record.record(type(name, (), ns(record.field)))
    ref = dataclasses.dataclass(frozen=True)(type(name, (), ns(dataclasses.field)))
    return mine, ref


class _Factory:
    def __init__(self, factory: Any) -> None:
        self.factory = factory


ANNOTATIONS = {"a": "int", "b": "str", "c": "tuple[int, ...]", "d": "str | None", "e": "dict[str, int]"}
BODY = {"c": (), "d": None, "e": _Factory(dict)}
VALUES = st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none(), st.tuples(st.integers(0, 2)))


@given(a=VALUES, b=VALUES, c=VALUES, d=VALUES, a2=VALUES, b2=VALUES)
def test_construction_equality_hash_and_repr_are_a_frozen_dataclasses(a: Any, b: Any, c: Any, d: Any, a2: Any,
                                                                     b2: Any) -> None:
    mine, ref = _pair(BODY, ANNOTATIONS)
    cases = [((a, b), {}), ((a,), {"b": b, "d": d}), ((), {"a": a, "b": b, "c": c}), ((a, b, c, d), {"e": {}})]
    for args, kwargs in cases:
        x, r = mine(*args, **kwargs), ref(*args, **kwargs)
        assert repr(x) == repr(r)
        assert [getattr(x, k) for k in ANNOTATIONS] == [getattr(r, k) for k in ANNOTATIONS]
        y, s = mine(a2, b2), ref(a2, b2)
        assert (x == y) == (r == s) and (x != y) == (r != s)
        if isinstance(c, tuple) or "c" not in kwargs:
            try:
                want: Any = hash(r)
            except TypeError:
                want = TypeError
            if want is TypeError:
                with pytest.raises(TypeError):
                    hash(x)
            else:
                assert hash(x) == want


def test_wrong_calls_raise_type_error_as_a_dataclass_does() -> None:
    mine, ref = _pair(BODY, ANNOTATIONS)
    for args, kwargs in [((), {}), ((1,), {}), ((1, "b"), {"zz": 1}), ((1, "b", (), None, {}, 9), {}),
                         ((1, "b"), {"a": 2})]:
        with pytest.raises(TypeError):
            ref(*args, **kwargs)
        with pytest.raises(TypeError):
            mine(*args, **kwargs)


def test_a_default_factory_gives_each_object_its_own() -> None:
    mine, _ = _pair(BODY, ANNOTATIONS)
    x, y = mine(1, "b"), mine(2, "c")
    assert x.e == {} and x.e is not y.e
    assert not hasattr(mine, "e")  # the factory is not left as a class attribute, as with dataclasses


def test_frozen_replace_and_fields() -> None:
    mine, ref = _pair(BODY, ANNOTATIONS)
    x = mine(1, "b")
    with pytest.raises(record.FrozenError):
        x.a = 2
    with pytest.raises(AttributeError):
        del x.b
    y = record.replace(x, b="other")
    assert (y.a, y.b, x.b) == (1, "other", "b") and type(y) is mine
    with pytest.raises(TypeError):
        record.replace(x, nope=1)
    assert [f.name for f in record.fields(mine)] == [f.name for f in dataclasses.fields(ref)]
    assert [f.type for f in record.fields(x)] == [f.type for f in dataclasses.fields(ref)]
    assert record.is_record(x) and record.is_record(mine) and not record.is_record(object())


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument 'a'"):
        record.record(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))


def test_inheritance_classvars_and_class_body_methods() -> None:
    @record.record
    class Base:
        a: int
        b: str = "x"
        kind: ClassVar[str] = "base"

    @record.record
    class Child(Base):
        c: int = 0

        def __repr__(self) -> str:
            return "child"

    @record.record
    class Same:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

    @dataclasses.dataclass(frozen=True)
    class SameRef:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

    c = Child(1, "y", 2)
    assert (c.a, c.b, c.c) == (1, "y", 2) and repr(c) == "child" and Child.kind == "base"
    assert [f.name for f in record.fields(Child)] == ["a", "b", "c"]
    assert Child(1) != Base(1) and Base(1) == Base(1, "x")
    assert Same(1) == Same(2) and (hash(Same(1)) == hash(Same(1))) == (hash(SameRef(1)) == hash(SameRef(1)))



# --- named tuples: record.NamedTuple is typing.NamedTuple without checking annotations ------

_NT_SOURCE = '''
from __future__ import annotations

class Pair(NamedTuple):
    """Two things."""

    left: int
    right: "str | None" = None
    rest: tuple[int, ...] = ()

    def both(self) -> str:
        return f"{self.left}/{self.right}"

    @property
    def width(self) -> int:
        return len(self.rest)
'''


def _named_tuples() -> tuple[type, type]:
    import typing

    from reviewtool.record import NamedTuple

    ours: dict[str, Any] = {"NamedTuple": NamedTuple, "__name__": "probe"}
    theirs: dict[str, Any] = {"NamedTuple": typing.NamedTuple, "__name__": "probe"}
    exec(_NT_SOURCE, ours)  # noqa: S102
    exec(_NT_SOURCE, theirs)  # noqa: S102
    return ours["Pair"], theirs["Pair"]


def test_a_named_tuple_behaves_as_typings() -> None:
    ours, theirs = _named_tuples()
    assert ours is not theirs
    for cls in (ours, theirs):
        p = cls(1, "x", (2, 3))
        assert (p.left, p.right, p.rest, p.both(), p.width) == (1, "x", (2, 3), "1/x", 2)
        assert cls(5) == (5, None, ()) and hash(cls(5)) == hash((5, None, ()))
        assert p._replace(right="y") == (1, "y", (2, 3)) and p._asdict() == {"left": 1, "right": "x", "rest": (2, 3)}
        assert cls._make([7, "z", ()]) == (7, "z", ())
    for name in ("_fields", "_field_defaults", "__doc__", "__module__", "__qualname__", "__mro__"):
        assert getattr(ours, name) == getattr(theirs, name) or name == "__mro__" and \
            [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__], name
    assert repr(ours(1)) == repr(theirs(1)) == "Pair(left=1, right=None, rest=())"
    assert list(ours.__annotations__) == list(theirs.__annotations__)


def test_a_named_tuple_refuses_what_typings_refuses() -> None:
    import typing

    from reviewtool.record import NamedTuple

    for base in (NamedTuple, typing.NamedTuple):
        with pytest.raises(TypeError, match="Non-default namedtuple field b cannot follow default field a"):
            exec("class X(B):\n    a: int = 1\n    b: int\n", {"B": base, "__name__": "probe"})  # noqa: S102
        with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):
            exec("class X(B):\n    a: int\n    def _replace(self): pass\n",  # noqa: S102
                 {"B": base, "__name__": "probe"})
