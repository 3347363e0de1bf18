"""Frozen records: what `@dataclass(frozen=True)` gives reviewtool, without its start-up cost.

Importing `dataclasses` imports `inspect` (and with it ast, dis and tokenize), and every
`@dataclass` compiles an `__init__`, `__setattr__` and `__delattr__` (and `__eq__` and
`__repr__` unless told not to) as it creates the class. On a 2-core machine that was 30 ms
of every command's start, before any work: a third of the time a whole `check series.mbox`
was allowed (docs/design.md, "Where a local check spends its time").

A record is a class decorated with `@record`: its annotations are its fields, in order, with
their defaults (`field(default_factory=...)` for a mutable one), as for a dataclass. It gets

- `__init__(self, *fields)`, compiled the first time the class is instantiated, so a class
  that a command never makes costs nothing;
- `__eq__` and `__hash__` over the fields that compare, `__repr__` over those shown, written
  once here: what `@dataclass(frozen=True)` generates, byte for byte (tests/test_record.py);
- `__setattr__` and `__delattr__` that raise `FrozenError` (an `AttributeError`).

`fields`, `replace` and `is_record` are `dataclasses.fields`, `.replace` and `.is_dataclass`.
Type checkers read a record as a frozen dataclass (PEP 681).
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, dataclass_transform

from reviewtool import rx

T = TypeVar("T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenError(AttributeError):
    """An assignment to a field of a record (records are frozen)."""


class Field:
    """One field of a record: its name, its annotation (a string) and its default."""

    __slots__ = ("name", "type", "default", "default_factory", "compare", "repr")

    def __init__(self, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING,
                 compare: bool = True, repr: bool = True) -> None:  # noqa: A002 (dataclasses' name)
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, compare: bool = True,
          repr: bool = True) -> Any:  # noqa: A002
    """A field with a default factory, or one left out of comparison or repr."""
    return Field(default, default_factory, compare, repr)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make CLS a frozen record (see the module's text)."""
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__record_fields__", ()):
            found[f.name] = f
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(value)
        f.name, f.type = name, annotation
        if isinstance(value, Field):
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        found[name] = f
    fields_ = tuple(found.values())
    seen_default = ""
    for f in fields_:
        if f.default is MISSING and f.default_factory is MISSING and seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument {seen_default!r}")
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = f.name
    own = dict(cls.__dict__)
    methods: dict[str, Any] = {
        "__record_fields__": fields_,
        "__record_compared__": tuple(f.name for f in fields_ if f.compare),
        "__record_shown__": tuple(f.name for f in fields_ if f.repr),
        "__setattr__": _setattr, "__delattr__": _delattr,
    }
    if "__init__" not in own:
        methods["__init__"] = _first_init(cls)
    if "__repr__" not in own:
        methods["__repr__"] = _repr
    if "__eq__" not in own:
        methods["__eq__"] = _eq
    if "__hash__" not in own or (own["__hash__"] is None and "__eq__" in own):
        methods["__hash__"] = _hash  # frozen and compared: hashed by its fields, as @dataclass(frozen=True) does
    for name, value in methods.items():
        setattr(cls, name, value)
    return cls


def is_record(obj: Any) -> bool:
    """True for a record or a record class."""
    return hasattr(type(obj) if not isinstance(obj, type) else obj, "__record_fields__")


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record or record class, in order."""
    got: tuple[Field, ...] = obj.__record_fields__
    return got


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record OBJ with CHANGES (field name: new value)."""
    for f in fields(obj):
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return type(obj)(**changes)


# --- what every record shares ---------------------------------------------------------

def _compared(obj: Any) -> tuple[Any, ...]:
    return tuple([getattr(obj, name) for name in obj.__record_compared__])


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is self.__class__:
        return _compared(self) == _compared(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(_compared(self))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join([f"{name}={getattr(self, name)!r}" for name in self.__record_shown__])
    return f"{type(self).__qualname__}({shown})"


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenError(f"cannot delete field {name!r}")


def _first_init(cls: type) -> Callable[..., None]:
    """An `__init__` that compiles the class's real one, puts it in its place and calls it."""
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _compile_init(cls)
        type.__setattr__(cls, "__init__", init)
        init(self, *args, **kwargs)
    return __init__


def _compile_init(cls: type) -> Callable[..., None]:
    """`__init__(self, a, b=<default>, c=<factory>)` setting each field, as @dataclass writes it."""
    env: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": _FACTORY}
    params, body = ["self"], []
    for i, f in enumerate(fields(cls)):
        if f.default_factory is not MISSING:
            env[f"_f{i}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f"  _set(self, {f.name!r}, _f{i}() if {f.name} is _FACTORY else {f.name})")
        else:
            if f.default is not MISSING:
                env[f"_d{i}"] = f.default
                params.append(f"{f.name}=_d{i}")
            else:
                params.append(f.name)
            body.append(f"  _set(self, {f.name!r}, {f.name})")
    source = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(rx.code(source, f"<record {cls.__qualname__}>"), env)  # noqa: S102 (our own source, as @dataclass)
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class _Factory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


# --- named tuples --------------------------------------------------------------------------

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import collections

    # What typing.NamedTuple does not do here: check each annotation as a type. Under
    # `from __future__ import annotations` every annotation is a string, and typing makes
    # a ForwardRef of each, compiling it: 127 compiles for the 21 named tuples a check
    # defines, 1.5 ms of its start. The annotations are kept as written.
    _PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults",
                             "_make", "_replace", "_asdict", "_source"})
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(mcs, typename, bases, ns):  # noqa: N804 - as typing's
            if any(base is not _NamedTuple for base in bases):
                raise TypeError("can only inherit from a NamedTuple type")
            annotations = ns.get("__annotations__", {})
            with_default = []
            for name in annotations:
                if name in ns:
                    with_default.append(name)
                elif with_default:
                    raise TypeError(f"Non-default namedtuple field {name} cannot follow default field"
                                    f"{'s' if len(with_default) > 1 else ''} {', '.join(with_default)}")
            made = collections.namedtuple(typename, list(annotations), defaults=[ns[n] for n in with_default],
                                          module=ns["__module__"])
            made.__annotations__ = made.__new__.__annotations__ = dict(annotations)
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in _SPECIAL and key not in made._fields:
                    setattr(made, key, value)
            return made

    _NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    def NamedTuple(typename, fields=None, /, **kwargs):  # noqa: N802 - typing's name
        """`class X(NamedTuple)` as typing's (the class syntax is the one reviewtool uses)."""
        raise TypeError("use the class syntax: class X(NamedTuple)")

    NamedTuple.__mro_entries__ = lambda bases: (_NamedTuple,)
