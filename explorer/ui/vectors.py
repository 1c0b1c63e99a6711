"""The Vectors page: groups of images, attribute vectors (mean with - mean without) applied to a point as a strip
from -2 to +2, and A - B + C on picks, groups and labels. The choices are bound to the link by their definitions
(a group's rows travel in the link as well), never by their numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from explorer.data import nouns
from explorer.groups import (ATTRIBUTE_KINDS, LEVEL, NOT_LEVEL, PICKS, STRENGTHS, along, attribute_vector, mean_latent,
                             positions, ref_text)
from explorer.imaging import enlarge, png_bytes, tile, to_uint8
from explorer.latent import Latents, decode_latents, slider_reach
from explorer.ui import group_panel, resources, session, sidebar, url
from explorer.numbers import share, signed, written
from explorer.ui.markup import plain, quoted
from explorer.ui.sidebar import Selection
from explorer.traversal import moved_factors
from explorer.vectors import EXAMPLES, other_level, typical, unit_of

VECTOR_ANCHOR = "attribute-vector"  # the vector's heading: where a lesson opens the page
IMAGE = 84  # pixels per decoded image
VECTOR_KEYS = ("vec_with", "vec_without", "vec_to")  # widget keys, and the link's parameters
ARITHMETIC_KEYS = ("arith_a", "arith_b", "arith_c")
EXAMPLE = ref_text("example", "")  # one real image lacking the attribute, chosen by the page
EXAMPLE_TEXT = "one image without it"
SUFFIXES = {"degrees": "°", "pixels": " px"}  # units short enough to follow each strip image's number


@dataclass
class VectorsState:
    """What the Vectors page keeps between runs."""

    data: str = ""  # the data (fingerprint) its choices were last shown for
    shown: dict[str, str] = field(default_factory=dict)  # ... and each choice as it read then, by widget key


def _terms(selection: Selection, latents: Latents) -> dict[str, str]:
    """What a vector or a sum can be made of -> as the page shows it: the picks, the groups and the labels that have
    images in this split. A bound selectbox puts the shown text in the link, so it names the term and nothing that
    changes with the split (no counts)."""
    me = session.visitor()
    terms = {ref_text("pick", tag): f"your picked point {tag}" for tag in PICKS[:len(me.picks)]}  # not a glyph A
    for group in session.groups(selection.dataset.fingerprint).values():
        terms[ref_text("group", group.name)] = f"group: {group.name}"
    for level in _levels(selection):  # a known factor's named levels: every bold glyph, every heart
        terms[ref_text(LEVEL, level)] = f"known: {level}"
        if other_level(selection.dataset, level) is None:  # one of many levels: set against all the others
            terms[ref_text(NOT_LEVEL, level)] = f"known: not {level}"
    if latents.labels is not None:
        for i, name in enumerate(selection.dataset.label_names):
            terms[ref_text("label", i)] = f"label: {name}"
    for attribute in _measured(selection):  # known quantities, then those measured from the pixels
        for kind in ATTRIBUTE_KINDS:
            terms[ref_text(kind, attribute)] = f"{kind} {attribute} (a quarter)"
    return {ref: shown for ref, shown in terms.items() if len(_positions(selection, latents, ref))}


def _measured(selection: Selection) -> dict[str, np.ndarray]:
    return resources.measured_attributes(selection.dataset, selection.split)


def _levels(selection: Selection) -> dict[str, np.ndarray]:
    return resources.known_levels(selection.dataset, selection.split)


def _positions(selection: Selection, latents: Latents, ref: str) -> np.ndarray:
    return positions(ref, latents, session.groups(selection.dataset.fingerprint), session.visitor().picks,
                     _measured(selection), _levels(selection))


def _choose(where, label: str, key: str, terms: dict[str, str], default: str, help: str, on_change=None,
            args: tuple = ()) -> str:
    state = session.page_state(VectorsState)
    asked = url.asked(key)  # the bound widget drops a link's value it has no option for: say so
    if asked is not None and asked not in terms.values():
        url.reject(key, f"{key}={quoted(asked)} is not one of the attributes, groups, labels or picks here "
                       f"('{label}' shows {plain(terms[default])})")
    options = list(terms)
    gone = None
    shown = state.shown.get(key)  # what the visitor last saw chosen here
    if session.offer(key, options, default, drawn=default):  # a pick cleared, a group deleted, other labels
        gone = shown if asked is None else None
    choice = where.selectbox(label, options, index=options.index(default), format_func=terms.get, key=key, help=help,
                             bind="query-params", persist_state="session", on_change=on_change, args=args)
    if gone is not None and gone != terms[choice]:
        where.caption(f"{plain(gone)} is not a choice for this model's data, so {plain(terms[choice])} is shown.")
    state.shown[key] = terms[choice]
    return choice


def _opposite(dataset, ref: str) -> str | None:
    """The term an attribute is naturally measured against: the other level of a two-level factor (bold: regular),
    all the others for a level of many (heart: not heart), the other quarter of a quantity (most ink: least ink);
    None for groups, labels and picks."""
    kind, _, key = ref.partition(":")
    if kind in ATTRIBUTE_KINDS:
        return ref_text(ATTRIBUTE_KINDS[1 - ATTRIBUTE_KINDS.index(kind)], key)
    if kind != LEVEL:
        return None
    other = other_level(dataset, key)
    return ref_text(NOT_LEVEL, key) if other is None else ref_text(LEVEL, other)


def _follow(dataset) -> None:
    """A new attribute chosen: its opposite becomes the images without it, so 'italic' is not set against 'regular'."""
    other = _opposite(dataset, session.widget_value(VECTOR_KEYS[0], ""))
    if other is not None:
        session.set_widget(VECTOR_KEYS[1], other)


def _defaults(terms: dict[str, str], count: int,
              first: tuple[str, ...] = ("group", "pick", "label", LEVEL, NOT_LEVEL, *ATTRIBUTE_KINDS)) -> list[str]:
    """As many distinct terms as there are, of the kinds in `first`'s order (groups, what the visitor made, first)."""
    order = sorted(terms, key=lambda ref: first.index(ref.partition(":")[0]))
    return [order[i % len(order)] for i in range(count)]


def _means(selection: Selection, latents: Latents, where: list[np.ndarray]) -> tuple[np.ndarray, int | None]:
    """The mean latent of each term's images (K, D), given where they are among the split's latents, and the label a
    conditional model decodes them as (the last term's most common label)."""
    label = None
    if selection.checkpoint.model_config.conditional and latents.labels is not None:
        label = int(np.bincount(latents.labels[where[-1]]).argmax())
    return np.stack([mean_latent(latents, w) for w in where]), label


def _strip(images: np.ndarray, captions: list[str], key: str) -> None:
    with st.container(key=key, horizontal=True, gap="xsmall"):
        for image, caption in zip(to_uint8(images), captions):
            st.image(enlarge(image, IMAGE), caption=caption, width=IMAGE, output_format="PNG")


def _vector_defaults(selection: Selection, terms: dict[str, str]) -> list[str]:
    """A vector that works, to open on (unless the visitor made two groups): a known two-level factor's second level
    minus its first (bold - regular), else the most of a known quantity minus the least (a sprite's scale), else of
    ink (thicker strokes); applied to one real image without it (EXAMPLE)."""
    factors = selection.dataset.factors
    attributes = [ref_text(LEVEL, f.levels[1]) for f in factors if len(f.levels) == 2]
    attributes += [ref_text("most", name) for name in [f.name for f in factors if not f.categorical] + ["ink"]]
    pairs = [(ref, _opposite(selection.dataset, ref)) for ref in attributes]
    fallback = _defaults(terms, 3)
    groups = [ref for ref in terms if ref.startswith("group:")]
    if len(groups) >= 2:
        pairs.insert(0, tuple(groups[:2]))  # the visitor's own two groups, when they made them, come first
    plus, minus = next((pair for pair in pairs if set(pair) <= set(terms)), fallback[:2])
    return [plus, minus, EXAMPLE]


def _scored_attribute(selection: Selection, plus: str, minus: str) -> str | None:
    """The attribute a (with, without) pair is the vector of, when the page can measure it: most/least of one
    quantity, or the two levels of a known two-level factor; None for groups, labels and picks."""
    kind, _, key = plus.partition(":")
    return key if kind != ATTRIBUTE_KINDS[1] and minus == _opposite(selection.dataset, plus) else None


def _score(selection: Selection, latents: Latents, attribute: str, strip: np.ndarray) -> list[str]:
    """Say what the vector does to the split's images, measured; return the strip's captions with its measures."""
    dataset = selection.dataset
    score = resources.vector_score(selection.checkpoint, dataset, selection.split, latents, attribute)
    items, class_noun = nouns(dataset)
    split = "test" if selection.split == "test" else selection.split
    lines = []
    for strength in (2, -2):
        at = score.at(strength)
        kept = "" if at.kept is None else f"; {share(at.kept)} kept their {class_noun}"
        lines.append(f"**{signed(at.strength)}** on {at.images:,} {split} {items} "
                     f"{'without' if strength > 0 else 'with'} it: {share(at.moved)} measured "
                     f"{'more' if strength > 0 else 'less'} {plain(attribute)}{kept}")
    level = attribute in _levels(selection)  # read as a probability; a quantity is read as a number
    known = level or any(factor.name == attribute for factor in dataset.factors)
    judge = "a small network trained on the data's known factors" if known else "its pixels"
    st.markdown(f"**{plain(attribute)} vector, scored**: " + "; ".join(lines) + ".")
    if weak := score.weak():
        ends = " and ".join(f"{share(at.moved)} at {signed(at.strength)}" for at in weak)
        st.warning(f"This vector barely moves {plain(attribute)}: {ends}, near the half that a vector changing nothing "
                   f"gets from the measure's noise alone. This model's latent space may not hold {plain(attribute)} "
                   "along one direction" + ("; the Compare page's rows show which factors its dimensions move." if
                                            dataset.factors else "."))
    kept = (f" Its {class_noun} is read by a small network trained on the data's labels." if score.strengths[0].kept
            is not None else "")
    unit = unit_of(dataset, attribute)
    st.caption("Each image gets the vector at each strength (+ to those without the attribute, − to those with "
               f"it), is decoded, and its {plain(attribute)} is measured by {judge}, never by this model, against "
               f"its own decoding at 0.{kept}" + (f" The strip's numbers: {plain(unit)}." if unit else ""))
    table = {"strength": [signed(row.strength) for row in score.strengths if row.strength],
             "images": [row.images for row in score.strengths if row.strength],
             "moved the intended way": [share(row.moved) for row in score.strengths if row.strength]}
    if score.strengths[0].kept is not None:
        table["kept their " + class_noun] = [share(row.kept) for row in score.strengths if row.strength]
    st.dataframe(table, hide_index=True, width="content")
    measured = resources.measure_of(dataset, attribute)(strip)
    suffix = SUFFIXES.get(unit, "")
    shown = [share(v) if level else written(v, ".2g") + suffix for v in measured]
    return [f"{signed(s)} · {v}" if s else f"0: itself · {v}" for s, v in zip(STRENGTHS, shown)]


def _example(selection: Selection, latents: Latents, attribute: str | None, vector: np.ndarray,
             without: np.ndarray) -> tuple[int, str]:
    """One real image lacking the attribute, to apply the vector to: of the EXAMPLES nearest the mean of those
    without it, the one whose strip shows a scored vector best (else the nearest); its position, and how chosen."""
    if attribute is None or selection.checkpoint.model_config.conditional:
        return int(typical(latents, without, 1)[0]), "the one nearest their mean latent"
    strip = resources.vector_example(selection.checkpoint, selection.dataset, selection.split, latents, attribute,
                                     vector, without)
    keeps = f"keeps its {nouns(selection.dataset)[1]} at the most strengths, then " if strip.read_as is not None else ""
    return strip.position, (f"of the {min(EXAMPLES, len(without))} nearest their mean latent, the one that {keeps}"
                            f"changes most in measured {attribute}")


def _row_name(selection: Selection, latents: Latents, position: int) -> str:
    """'row 4160 (digit 8)': a data row as the page names it."""
    row = f"row {int(latents.index[position])}"
    if latents.labels is None:
        return row
    return f"{row} ({nouns(selection.dataset)[1]} {selection.dataset.label_names[latents.labels[position]]})"


def _counted(shown: str, where: np.ndarray) -> str:
    """'known: bold (809 images)': a term and how many of the split's images it holds."""
    return f"{shown} ({len(where):,} image{'s' if len(where) > 1 else ''})"


def _attribute(selection: Selection, latents: Latents, terms: dict[str, str]) -> dict[str, str]:
    st.subheader("An attribute vector", anchor=VECTOR_ANCHOR)
    cols = st.columns(3)
    defaults = _vector_defaults(selection, terms)
    plus = _choose(cols[0], "Images with the attribute", VECTOR_KEYS[0], terms, defaults[0],
                   "A known attribute (bold), a quarter with the most of a measured one (ink), a group or a label "
                   "that has what you want to add.", on_change=_follow, args=(selection.dataset,))
    opposite = _opposite(selection.dataset, plus)  # a link naming only the attribute: set against its opposite
    minus = _choose(cols[1], "Images without it", VECTOR_KEYS[1], terms, opposite if opposite in terms else defaults[1],
                    "Images like the first in all but that: its opposite (regular, the least ink), a group or a label.")
    target = _choose(cols[2], "Apply it to", VECTOR_KEYS[2], {EXAMPLE: EXAMPLE_TEXT} | terms, defaults[2],
                     "One real image without the attribute, chosen here; a picked point (pick two on the Explore "
                     "map); or a group's or label's mean.")
    if plus == minus:
        st.warning("The two groups are the same, so the vector is zero: choose two different ones.")
    where = [_positions(selection, latents, ref) for ref in (plus, minus)]
    vector = attribute_vector(latents, *where)
    attribute = _scored_attribute(selection, plus, minus)
    named = [_counted(terms[ref], w) for ref, w in zip((plus, minus), where)]
    chosen = ""
    if target == EXAMPLE:
        position, how = _example(selection, latents, attribute, vector, where[1])
        where.append(np.asarray([position]))
        named.append(_row_name(selection, latents, position))
        chosen = f" {named[2][0].upper()}{named[2][1:]} is a real image of {terms[minus]}: {how}."
    else:
        where.append(_positions(selection, latents, target))
        named.append(_counted(terms[target], where[2]))
    means, label = _means(selection, latents, where)
    model = selection.checkpoint.model
    ends = decode_latents(model, means[:2], label)
    _strip(ends, ["with (mean)", "without (mean)"], "vector_ends")
    strip = decode_latents(model, along(means[2], vector), label)
    captions = [signed(s) if s else "0: itself" for s in STRENGTHS]
    if attribute is not None and not selection.checkpoint.model_config.conditional:
        captions = _score(selection, latents, attribute, strip)
    _strip(strip, captions, "vector_strip")
    st.caption(f"vector = mean latent of {plain(named[0])} − mean latent of {plain(named[1])}; its length is "
               f"{np.linalg.norm(vector):.2f} latent units. The strip decodes {plain(named[2])} + s · vector for "
               "s from −2 to +2" + (f", each with its measured {plain(attribute)}." if attribute else
                                    ". Choose a known or measured attribute and its opposite to have it scored.")
               + plain(chosen))
    st.download_button("Download the strip (PNG)", png_bytes(tile(to_uint8(strip), columns=len(strip))),
                       file_name="attribute-strip.png", mime="image/png", key="download_vector_strip")
    shown = {EXAMPLE: EXAMPLE_TEXT} | terms
    return {key: shown[ref] for key, ref in zip(VECTOR_KEYS, (plus, minus, target))}  # as the bound widgets link them


def _arithmetic(selection: Selection, latents: Latents, terms: dict[str, str]) -> dict[str, str]:
    st.subheader("X − Y + Z")
    cols = st.columns(3)
    # X starts from a pick, when there is one
    defaults = _defaults(terms, 3, first=("pick", "group", "label", LEVEL, NOT_LEVEL, *ATTRIBUTE_KINDS))
    refs = tuple(_choose(col, name, key, terms, default, help) for col, name, key, default, help in zip(
        cols, ("X: start from", "Y: take away", "Z: add"), ARITHMETIC_KEYS, defaults,
        ("Where to start from.", "What to take away.", "What to add in its place.")))
    means, label = _means(selection, latents, [_positions(selection, latents, ref) for ref in refs])
    result = means[0] - means[1] + means[2]
    images = decode_latents(selection.checkpoint.model, np.vstack([means, result[None]]), label)
    _strip(images, ["X", "− Y", "+ Z", "= X − Y + Z"], "arithmetic_strip")
    st.caption("Each term is a mean latent (a pick is its own mean); the last image decodes X − Y + Z, which moves X "
               "by the difference between Z and Y. How much of X's style survives depends on how cleanly that "
               "difference holds one attribute: the vector above is scored, this sum is not.")
    _unmoved_class(selection, latents, refs)
    return {key: terms[ref] for key, ref in zip(ARITHMETIC_KEYS, refs)}


def _unmoved_class(selection: Selection, latents: Latents, refs) -> None:
    """On data with known factors, say when no latent dimension moves the class most: then the labels' means differ
    only in what the dimensions do move, and decode alike (sprites' shapes on the β 8 model)."""
    if not any(ref.startswith("label:") for ref in refs):
        return
    named = resources.factor_names(selection.checkpoint, selection.dataset, selection.split, latents,
                                   slider_reach(latents))
    class_noun = nouns(selection.dataset)[1]
    if named and class_noun not in moved_factors(named):
        st.caption(f"No latent dimension of this model moves the {class_noun} most (each walked and read as on "
                   f"Generate), so the labels' means differ in what the dimensions do move and can decode alike.")


def render() -> None:
    if (page := sidebar.data_page("Groups and latent arithmetic")) is None:
        return
    selection, latents = page
    st.subheader("Groups")
    group_panel.kept(selection, latents)
    terms = _terms(selection, latents)
    state = session.page_state(VectorsState)
    if state.data != selection.dataset.fingerprint:  # other data: 'label:0' is still an option, as an A now
        for key in (*VECTOR_KEYS, *ARITHMETIC_KEYS):
            session.keep_widget(key)  # sent again, so the browser shows the new data's name for it, not the old one
        state.data = selection.dataset.fingerprint
    link: dict[str, str] = {}
    if len(terms) < 2:
        st.info("Vectors need two groups to compare: save groups on the Explore page (box or lasso on the map), "
                "or use a model whose data has labels.")
    else:
        link |= _attribute(selection, latents, terms)
        link |= _arithmetic(selection, latents, terms)
    sidebar.publish(selection, link)
