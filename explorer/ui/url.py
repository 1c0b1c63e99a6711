"""The shareable link. Settings are bound to the URL by their widgets (bind="query-params", from the declarations);
this module adds what is not a widget (the model, the picks), and one notice for whatever a link held that could
not be used.

Nothing in a link is used as a file path: the model name is looked up among the server's known models, and every
value is checked against its declaration. What cannot be used falls back to its default.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from explorer.checkpoint import known_checkpoints
from explorer.config import Z_LIMIT, MapConfig, PathConfig, ProjectionConfig, SamplingConfig, ScoreConfig
from explorer.data import SPLITS, ImageDataset
from explorer.groups import MAX_GROUPS, parse_groups
from explorer.projections import methods_for
from explorer.settings import Spec, describe, from_link, is_valid, kind, link_text, specs
from explorer.ui import session
from explorer.ui.markup import plain, quoted
from explorer.ui.widgets import setting_key

LINKED = (ProjectionConfig, PathConfig, SamplingConfig, MapConfig, ScoreConfig)
PAGE_CHECKED = ("factor", "colour")  # parameters only their page can check (against its data), by name ...
PAGE_PREFIXES = ("vec_", "arith_")  # ... and the Vectors page's, by their prefix
OWN = ("model", "picks", "groups")  # the parameters this module writes itself
STREAMLIT_OWN = ("embed", "embed_options")  # Streamlit's own: never ours to drop


@dataclasses.dataclass
class LinkState:
    """What this module keeps of the link a visit opened with, and of its notices."""

    read: bool = False  # the link was read on this visit's first run
    unchecked: dict[str, str] = dataclasses.field(default_factory=dict)  # its parameters a page checks later (asked)
    notices: list[str] = dataclasses.field(default_factory=list)
    notice_slot: Any = None  # where this run's page shows them (show_notices), None before it does
    notice_draws: int = 0  # ... and how often this run drew them there


def _state() -> LinkState:
    return session.page_state(LinkState)


def new_run() -> None:
    """On every run, first: the last run's place for the notices on the page is gone."""
    state = _state()
    state.notice_slot, state.notice_draws = None, 0


def asked(key: str) -> str | None:
    """The link's value for a parameter only its page can check (PAGE_CHECKED, PAGE_PREFIXES), given once."""
    return _state().unchecked.pop(key, None)


def one(value: Any) -> str:
    """A link parameter's value (its last, when it is repeated)."""
    return value[-1] if isinstance(value, list) else str(value)


def _linked_fields(latent_dim: int, label_names: tuple[str, ...],
                   reach: float = Z_LIMIT) -> dict[str, tuple[dataclasses.Field, Spec]]:
    """Every link parameter a widget binds, with what a valid value is for this model."""
    fields = {spec.link: (field, spec) for c in LINKED for field, spec in specs(c).values() if spec.link}
    method_field, method_spec = fields["proj"]
    fields["proj"] = (method_field, dataclasses.replace(method_spec, choices=methods_for(latent_dim)))
    fields["split"] = (dataclasses.field(default=SPLITS[0]), Spec("split", "", choices=SPLITS))
    for d in range(latent_dim):
        fields[session.z_key(d)] = (dataclasses.field(default=0.0), Spec("z", "", low=-reach, high=reach))
    if label_names:
        fields[session.LABEL] = (dataclasses.field(default=0), Spec("label", "", choices=tuple(range(len(label_names))),
                                                                    names=dict(enumerate(label_names))))
    return fields


def first_visit() -> dict[str, Any] | None:
    """The link's parameters on a visit's first run (None afterwards): a link is read once, then the page rules."""
    state = _state()
    if state.read:
        return None
    state.read = True
    params = st.query_params.to_dict()
    state.unchecked = {key: one(value) for key, value in params.items() if _page_checked(key)}
    _unknown(params)
    return params


def restore_model(params: dict[str, Any], param: str = "model", key: str = session.MODEL) -> None:
    """A model choice (the sidebar's, by default), before its widget exists. Only server-side models can be named in
    a link: a visitor's own models never go into one."""
    if param in params:
        name = one(params[param])
        if name in known_checkpoints():
            session.set_widget(key, name)
        else:
            reject(param, f"the model {quoted(name, 60)} is not one of this server's models")


def restore_groups(params: dict[str, Any], dataset: ImageDataset) -> None:
    """The groups a link defines (names and rows), added to the visitor's groups of this data set."""
    if "groups" not in params:
        return
    try:
        found = parse_groups(one(params["groups"]), len(dataset))
    except ValueError as error:
        reject("groups", f"its groups could not be read ({plain(str(error))})")
        return
    kept = session.groups(dataset.fingerprint)
    kept.update({group.name: group for group in found})
    while len(kept) > MAX_GROUPS:  # the visitor's own oldest make room for the link's
        kept.pop(next(iter(kept)))


def _whole_part(field: dataclasses.Field, spec: Spec, text: str) -> int | None:
    """What a bound whole-number widget shows for a fractional link value (Streamlit keeps 12 of 12.7, where it
    drops any other invalid value), if that is a valid value."""
    if kind(field) is not int or spec.choices is not None:
        return None
    try:
        whole = int(float(text))
    except (ValueError, OverflowError):
        return None
    return whole if is_valid(field, spec, whole) else None


def check_view(params: dict[str, Any], latent_dim: int, rows: np.ndarray | None, label_names: tuple[str, ...],
               reach: float = Z_LIMIT) -> None:
    """Note every bound value the widgets will drop (they fall back to their defaults), and restore the picks.
    reach: how far the latent sliders go each way (explorer.latent.slider_reach)."""
    for key, (field, spec) in _linked_fields(latent_dim, label_names, reach).items():
        if key not in params:
            continue
        text = one(params[key])
        try:
            valid = is_valid(field, spec, from_link(field, spec, text))
        except (ValueError, OverflowError):
            valid = False
        if not valid and (whole := _whole_part(field, spec, text)) is not None:
            reject(key, f"{key}={quoted(text, 20)} is not a whole number; {whole}, its whole part, is shown")
        elif not valid:
            shown = (dataclasses.replace(spec, choices=tuple(spec.names[c] for c in spec.choices)) if spec.names
                     else spec)
            reject(key, f"{key}={quoted(text, 20)} is not {plain(describe(field, shown))}")
    beyond = sorted((k for k in params if re.fullmatch(r"z\d{1,6}", k) and int(k[1:]) >= latent_dim),
                    key=lambda k: int(k[1:]))
    if beyond:
        reject(beyond, f"{', '.join(beyond[:4])}{' ...' if len(beyond) > 4 else ''} "
                       f"{'is not a dimension' if len(beyond) == 1 else 'are not dimensions'} of this "
                       f"{latent_dim}-D model")
    if session.LABEL in params and not label_names:
        reject(session.LABEL, "label= only chooses what a conditional model draws, and this model is not one")
    if "picks" in params:
        _restore_picks(one(params["picks"]), rows)


def _restore_picks(text: str, rows: np.ndarray | None) -> None:
    """A link's picks (one or two image numbers), when they are images of this model's data split."""
    try:
        picks = list(dict.fromkeys(int(p) for p in text.split(",") if p != ""))[:2]  # A != B
    except ValueError:
        reject("picks", f"picks={quoted(text, 20)} is not one or two image numbers (picks=3,41)")
        return
    if rows is None or not all(-2**63 <= p < 2**63 for p in picks) or not np.isin(picks, rows).all():
        reject("picks", "the picked points are not in this model's data split")
        return
    session.visitor().picks = picks


def offered(config_type, name: str) -> tuple:
    """A ticked setting's options: its ticks, and the value the link or the visitor chose when it lies between them.
    The declaration allows any value within its bounds; the ticks are only the slider's stops, and a select-slider
    drops a value that is not one of its options."""
    field, spec = specs(config_type)[name]
    key = setting_key(config_type, name)
    chosen = [session.widget_value(key)]
    if key in st.query_params:
        try:
            chosen.append(from_link(field, spec, one(st.query_params.get_all(key))))
        except (ValueError, OverflowError):
            pass  # check_view says so
    return tuple(sorted({*spec.ticks, *(v for v in chosen if v is not None and is_valid(field, spec, v))}))


def known_parameter(key: str) -> bool:
    """Whether any page of the app reads this link parameter."""
    linked = {spec.link for c in LINKED for _, spec in specs(c).values() if spec.link}
    named = {*linked, *OWN, *STREAMLIT_OWN, *session.COMPARE_MODELS, session.SPLIT, session.LABEL, session.LESSON}
    return key in named or _page_checked(key) or re.fullmatch(r"z\d{1,6}", key) is not None


def _page_checked(key: str) -> bool:
    return key in PAGE_CHECKED or key.startswith(PAGE_PREFIXES)


def _unknown(params: dict[str, Any]) -> None:
    """Parameters no page reads (an older link's `z=1,2`, a typo): named, and dropped from the address bar."""
    unknown = sorted(k for k in params if not known_parameter(k))
    if unknown:
        reject(unknown, f"{', '.join(quoted(k, 20) for k in unknown[:4])}{' ...' if len(unknown) > 4 else ''} "
                        f"{'is not a setting' if len(unknown) == 1 else 'are not settings'} of this app")


def reject(keys: str | list[str], text: str) -> None:
    """Say that a link's value could not be used, and take it out of the address bar, so that sharing the view
    again does not pass it on."""
    _state().notices.append(text)
    _draw_notices()  # joins the page's one warning, when it is already drawn
    for key in [keys] if isinstance(keys, str) else keys:
        if key in st.query_params:
            del st.query_params[key]


def show_notices() -> None:
    """The link's notices, in one warning here; a later check on the page (reject) joins the same warning."""
    _state().notice_slot = st.empty()
    _draw_notices()


def _draw_notices() -> None:
    state = _state()
    if not state.notices or state.notice_slot is None:
        return
    state.notice_draws += 1
    with state.notice_slot.container():  # drawn again, in place, when a notice joins: a key of its own for the button
        st.warning("This link had settings that could not be used, so their defaults are shown: "
                   + "; ".join(state.notices) + ".")
        st.button("OK", key="url_notices_ok" + (f"_{state.notice_draws}" if state.notice_draws > 1 else ""),
                  on_click=lambda: state.notices.clear())


def settings_link(config, defaults: dict[str, Any] | None = None) -> dict[str, str]:
    """A config's link parameters that differ from their defaults (as the bound widgets leave the URL)."""
    defaults = defaults or {}
    out = {}
    for name, (field, spec) in specs(config).items():
        value = getattr(config, name)
        if spec.link and value != defaults.get(name, field.default):
            out[spec.link] = link_text(spec, value)
    return out


def publish(model: str | None, picks: list[int], settings: dict[str, str], groups: str | None = None) -> None:
    """Keep the URL's own parameters (model, picks, groups) in step with the view, and show a copyable link to it.

    model is None for a model that lives only in this session; settings are the bound widgets' parameters;
    groups is explorer.groups.groups_text of the visitor's groups.
    """
    own = {"model": model, "picks": ",".join(str(r) for r in picks) or None, "groups": groups}
    if model is None:  # the link opens another model: these rows would be other images of other data
        own["picks"] = own["groups"] = None
    set_params(own)
    share({k: v for k, v in own.items() if v is not None} | settings, shareable=model is not None)


def set_params(values: dict[str, str | None]) -> None:
    """Parameters of the URL that are not bound widgets: set each (one value, repeats dropped), or remove it (None)."""
    for key, value in values.items():
        if value is None and key in st.query_params:
            del st.query_params[key]
        elif value is not None and st.query_params.get_all(key) != [value]:
            st.query_params[key] = value


def share(link: dict[str, str], shareable: bool = True) -> None:
    """"Share this view" in the sidebar: the page's link (these parameters), to copy (st.code has a button)."""
    with st.sidebar, st.popover("Share this view", icon=":material/link:"):
        base = (st.context.url or "").split("?")[0]
        st.code(f"{base}?{urlencode(link)}" if link else base, language=None, wrap_lines=True)
        st.caption("Copy the link with the button that shows at its right when the pointer is over it." + (
            "" if shareable else " This model lives only in your session: the link opens the default model, "
            "without your picks and groups. Save it on the Train page to share it."))
