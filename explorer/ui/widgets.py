"""Widgets drawn from the settings' declarations (explorer.settings): label, help, bounds, choices and default
come from there; each keeps its value for the session, and those that are part of a link are bound to the URL."""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.settings import kind, specs


def setting_key(config_type, name: str, prefix: str | None = None) -> str:
    """A setting's widget key: its link name where it has one (the URL parameter), else prefix_name."""
    spec = specs(config_type)[name][1]
    return spec.link if spec.link and prefix is None else f"{prefix}_{name}"


def setting_widget(config_type, name: str, where=st, *, prefix: str | None = None, choices: tuple | None = None,
                   default: Any = None, disabled: bool = False, note: str | None = None) -> Any:
    """Draw one declared setting and return its value.

    prefix: keys the widget as prefix_name and keeps it out of the link (the Train page's settings).
    choices / default: narrow the declared choices, or move the default, for this view (e.g. the projections
    a 2-D model offers).
    disabled / note: grey it out, and add a sentence to its help saying why (a setting the model does not use).
    """
    field, spec = specs(config_type)[name]
    key = setting_key(config_type, name, prefix)
    default = field.default if default is None else default
    common: dict[str, Any] = dict(label=spec.label, help=f"{spec.help} {note}" if note else spec.help, key=key,
                                  persist_state="session", disabled=disabled)
    if spec.link and prefix is None:
        common["bind"] = "query-params"
    value_type = kind(field)
    if value_type is bool:
        return where.checkbox(value=default, **common)
    options = choices or spec.choices or spec.ticks
    names = ((lambda v: spec.names.get(v, str(v))) if spec.names
             else (lambda v: f"{v:g}" if isinstance(v, float) else str(v)))
    if options is not None and spec.choices is not None and spec.widget != "slider":
        options = list(options)
        index = options.index(default) if default in options else 0
        if spec.widget == "select" or len(options) > 4:
            return where.selectbox(options=options, index=index, format_func=names, **common)
        return where.radio(options=options, index=index, format_func=names, horizontal=True, **common)
    if options is not None:
        return where.select_slider(options=list(options), value=default, format_func=names, **common)
    low, high = value_type(spec.low), value_type(spec.high)
    step = value_type(spec.step) if spec.step is not None else (1 if value_type is int else None)
    if spec.widget == "number":
        return where.number_input(min_value=low, max_value=high, value=default, step=step, **common)
    return where.slider(min_value=low, max_value=high, value=default, step=step, **common)
