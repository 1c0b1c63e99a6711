"""One declaration per setting: type, default, bounds or choices, label, help and link name, as field metadata.

Configs declare their fields with `setting(...)`; validation, the CLI flags, the app's widgets and the
shareable link are all derived from these declarations (see `validate`, `describe`, `parse`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spec:
    """How one setting may be set, shown and linked."""

    label: str  # the widget's label
    help: str  # one line, shown as the widget's tooltip and the CLI's --help
    low: float | None = None  # inclusive bounds of a number
    high: float | None = None
    choices: tuple | None = None  # the allowed values
    step: float | None = None  # a slider's step
    ticks: tuple | None = None  # the values a select-slider offers (the bounds still validate)
    names: dict | None = None  # how the widget shows each choice
    link: str | None = None  # its URL parameter; None: not part of a shared link
    flag: str | None = None  # its CLI flag when not --field-name
    widget: str | None = None  # "number", "slider", "radio" or "select": overrides the choice by type
    needs: str | None = None  # what a model kind must have for it to apply (a Kind attribute, e.g. "weighs_kl")
    panel: str | None = None  # the Train page's column that draws it (explorer.ui.train.PANELS); None: not drawn there


def setting(default: Any, label: str, help: str, **spec: Any) -> Any:
    """A dataclass field carrying its Spec."""
    return dataclasses.field(default=default, metadata={"spec": Spec(label, help, **spec)})


def specs(config_type) -> dict[str, tuple[dataclasses.Field, Spec]]:
    """The declared fields of a config class (or instance), by name."""
    return {f.name: (f, f.metadata["spec"]) for f in dataclasses.fields(config_type) if "spec" in f.metadata}


def kind(field: dataclasses.Field) -> type:
    """The field's value type: bool, int, float, str or tuple (from its default)."""
    return type(field.default)


def describe(field: dataclasses.Field, spec: Spec) -> str:
    """What a valid value is, in words: 'a whole number from 2 to 100'."""
    if spec.choices is not None:
        return "one of " + ", ".join(str(c) for c in spec.choices)
    what = {int: "a whole number", float: "a number", bool: "true or false", tuple: "a list of whole numbers"}
    text = what.get(kind(field), "a value")
    if spec.low is not None and spec.high is not None:
        return f"{text} from {spec.low:g} to {spec.high:g}"
    if spec.low is not None:
        return f"{text} of at least {spec.low:g}"
    return text


def is_valid(field: dataclasses.Field, spec: Spec, value: Any) -> bool:
    expected = kind(field)
    if expected is bool:
        return isinstance(value, bool)
    if expected is tuple and not (
        isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return False
    if expected is int and (not isinstance(value, int) or isinstance(value, bool)):
        return False
    if expected is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return False
    if spec.choices is not None:
        return value in spec.choices
    numbers = value if isinstance(value, tuple) else (value,)
    return all((spec.low is None or v >= spec.low) and (spec.high is None or v <= spec.high) for v in numbers)


def validate(config) -> None:
    """Raise ValueError, in a sentence, for the first field outside its declaration."""
    for name, (field, spec) in specs(config).items():
        value = getattr(config, name)
        if not is_valid(field, spec, value):
            raise ValueError(f"{name} must be {describe(field, spec)}, not {value!r}.")


def normalise(config) -> None:
    """Coerce what JSON and the CLI hand over (lists, ints for floats) to the declared types, in place."""
    for name, (field, _) in specs(config).items():
        value = getattr(config, name)
        if kind(field) is tuple and isinstance(value, list):
            object.__setattr__(config, name, tuple(value))
        elif kind(field) is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(config, name, float(value))


def parse(field: dataclasses.Field, text: str) -> Any:
    """A value from text (a link or a flag), as the field's type; ValueError when it is not one."""
    expected = kind(field)
    if expected is tuple:
        return tuple(int(part) for part in text.split(",") if part.strip())
    if expected is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    return expected(text)


def link_text(spec: Spec, value: Any) -> str:
    """A value as a bound widget writes it into the URL: a choice by its shown name, a number briefly."""
    if spec.names:
        return str(spec.names.get(value, value))
    if isinstance(value, bool):
        return str(value).lower()  # as a bound checkbox writes it
    return f"{value:g}" if isinstance(value, float) else str(value)


def from_link(field: dataclasses.Field, spec: Spec, text: str) -> Any:
    """The value a URL parameter stands for (the inverse of link_text); ValueError when it is none."""
    if spec.names:
        for value, name in spec.names.items():
            if name == text:
                return value
        raise ValueError(text)
    return parse(field, text)


def link_names(config_type) -> dict[str, str]:
    """field name -> URL parameter, for the fields that are part of a link."""
    return {name: spec.link for name, (_, spec) in specs(config_type).items() if spec.link}
