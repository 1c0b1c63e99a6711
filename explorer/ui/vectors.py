"""The Vectors page: groups of images, attribute vectors (mean with - mean without) applied to a point as a strip
from -2 to +2, and A - B + C on picks, groups and labels. The choices are bound to the link by their definitions
(a group's rows travel in the link as well), never by their numbers."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.attributes import MEASURES
from explorer.groups import ATTRIBUTE_KINDS, PICKS, STRENGTHS, along, attribute_vector, mean_latent, positions, ref_text
from explorer.imaging import enlarge, png_bytes, tile, to_uint8
from explorer.latent import Latents, decode_latents
from explorer.ui import group_panel, resources, session, sidebar
from explorer.ui.markup import plain
from explorer.ui.sidebar import Selection

IMAGE = 84  # pixels per decoded image
VECTOR_KEYS = ("vec_with", "vec_without", "vec_to")  # widget keys, and the link's parameters
ARITHMETIC_KEYS = ("arith_a", "arith_b", "arith_c")


def _terms(selection: Selection, latents: Latents) -> dict[str, str]:
    """What a vector or a sum can be made of -> as the page shows it: the picks, the groups and the labels that have
    images in this split. A bound selectbox puts the shown text in the link, so it names the term and nothing that
    changes with the split (no counts)."""
    me = session.visitor()
    terms = {ref_text("pick", tag): f"pick {tag}" for tag in PICKS[:len(me.picks)]}
    for group in session.groups(selection.dataset.fingerprint).values():
        terms[ref_text("group", group.name)] = f"group: {group.name}"
    if latents.labels is not None:
        for i, name in enumerate(selection.dataset.label_names):
            terms[ref_text("label", i)] = f"label: {name}"
    for attribute in MEASURES:  # measured from the pixels: groups every grey or colour image data set has
        for kind in ATTRIBUTE_KINDS:
            terms[ref_text(kind, attribute)] = f"{kind} {attribute} (a quarter)"
    groups = session.groups(selection.dataset.fingerprint)
    measured = _measured(selection)
    return {ref: shown for ref, shown in terms.items() if len(positions(ref, latents, groups, me.picks, measured))}


def _measured(selection: Selection) -> dict[str, np.ndarray]:
    return resources.measured_attributes(selection.dataset, selection.split)


def _choose(where, label: str, key: str, terms: dict[str, str], default: str, help: str) -> str:
    me = session.visitor()
    asked = me.link_unchecked.pop(key, None)  # the bound widget drops a link's value it has no option for: say so
    if asked is not None and asked not in terms.values():
        st.warning(f"The link chose {plain(repr(asked[:40]))} for '{label}', which is not one of the groups, labels "
                   f"or picks here, so {plain(terms[default])} is shown.")
    options = list(terms)
    if session.widget_value(key, default) not in options:
        session.set_widget(key, default)  # a pick cleared, a group deleted, another model's labels
    return where.selectbox(label, options, index=options.index(default), format_func=terms.get, key=key, help=help,
                           bind="query-params", persist_state="session")


def _defaults(terms: dict[str, str], count: int,
              first: tuple[str, ...] = ("group", "pick", "label", *ATTRIBUTE_KINDS)) -> list[str]:
    """As many distinct terms as there are, of the kinds in `first`'s order (groups, what the visitor made, first)."""
    order = sorted(terms, key=lambda ref: first.index(ref.partition(":")[0]))
    return [order[i % len(order)] for i in range(count)]


def _means(selection: Selection, latents: Latents, refs) -> tuple[np.ndarray, int | None, list[np.ndarray]]:
    """The mean latent of each term (K, D), the label a conditional model decodes them as (the last term's most
    common label), and where each term's images are among the split's latents."""
    me = session.visitor()
    groups = session.groups(selection.dataset.fingerprint)
    where = [positions(ref, latents, groups, me.picks, _measured(selection)) for ref in refs]
    label = None
    if selection.checkpoint.model_config.conditional and latents.labels is not None:
        label = int(np.bincount(latents.labels[where[-1]]).argmax())
    return np.stack([mean_latent(latents, w) for w in where]), label, where


def _strip(images: np.ndarray, captions: list[str], key: str) -> None:
    with st.container(key=key, horizontal=True, gap="xsmall"):
        for image, caption in zip(to_uint8(images), captions):
            st.image(enlarge(image, IMAGE), caption=caption, width=IMAGE, output_format="PNG")


def _attribute(selection: Selection, latents: Latents, terms: dict[str, str]) -> dict[str, str]:
    st.subheader("An attribute vector")
    cols = st.columns(3)
    defaults = _defaults(terms, 3)
    plus = _choose(cols[0], "Images with the attribute", VECTOR_KEYS[0], terms, defaults[0],
                   "A group (or label) that has what you want to add.")
    minus = _choose(cols[1], "Images without it", VECTOR_KEYS[1], terms, defaults[1],
                    "A group (or label) like the first in all but that.")
    target = _choose(cols[2], "Apply it to", VECTOR_KEYS[2], terms, defaults[2],
                     "A picked point (pick two on the Explore map), or a group's or label's mean.")
    if plus == minus:
        st.warning("The two groups are the same, so the vector is zero: choose two different ones.")
    means, label, where = _means(selection, latents, (plus, minus, target))
    named = [f"{terms[ref]} ({len(w):,} image{'s' if len(w) > 1 else ''})" for ref, w in zip((plus, minus, target), where)]
    vector = attribute_vector(latents, where[0], where[1])
    model = selection.checkpoint.model
    ends = decode_latents(model, means[:2], label)
    _strip(ends, ["with (mean)", "without (mean)"], "vector_ends")
    strip = decode_latents(model, along(means[2], vector), label)
    _strip(strip, [f"{s:+g}" if s else "0: itself" for s in STRENGTHS], "vector_strip")
    st.caption(f"vector = mean latent of {plain(named[0])} − mean latent of {plain(named[1])}; its length is "
               f"{np.linalg.norm(vector):.2f} latent units. The strip decodes {plain(named[2])} + s · vector for "
               "s from −2 to +2: at +1 it gains what tells the first group from the second, at −1 it loses it.")
    st.download_button("Download the strip (PNG)", png_bytes(tile(to_uint8(strip), columns=len(strip))),
                       file_name="attribute-strip.png", mime="image/png", key="download_vector_strip")
    return {key: terms[ref] for key, ref in zip(VECTOR_KEYS, (plus, minus, target))}  # as the bound widgets link them


def _arithmetic(selection: Selection, latents: Latents, terms: dict[str, str]) -> dict[str, str]:
    st.subheader("X − Y + Z")
    cols = st.columns(3)
    defaults = _defaults(terms, 3, first=("pick", "group", "label", *ATTRIBUTE_KINDS))  # from a pick, when there is one
    refs = tuple(_choose(col, name, key, terms, default, help) for col, name, key, default, help in zip(
        cols, ("X: start from", "Y: take away", "Z: add"), ARITHMETIC_KEYS, defaults,
        ("Where to start from.", "What to take away.", "What to add in its place.")))
    means, label, _ = _means(selection, latents, refs)
    result = means[0] - means[1] + means[2]
    images = decode_latents(selection.checkpoint.model, np.vstack([means, result[None]]), label)
    _strip(images, ["X", "− Y", "+ Z", "= X − Y + Z"], "arithmetic_strip")
    st.caption("Each term is a mean latent (a pick is its own mean); the last image decodes X − Y + Z. When Y and Z "
               "differ by one attribute, it moves X by that attribute: a picked 1, minus the label 1's mean, plus the "
               "label 7's mean, is a 7 written in the style of that 1.")
    return {key: terms[ref] for key, ref in zip(ARITHMETIC_KEYS, refs)}


def render() -> None:
    if (page := sidebar.data_page("Groups and latent arithmetic")) is None:
        return
    selection, latents = page
    st.subheader("Groups")
    group_panel.kept(selection, latents)
    terms = _terms(selection, latents)
    link: dict[str, str] = {}
    if len(terms) < 2:
        st.info("Vectors need two groups to compare: save groups on the Explore page (box or lasso on the map), "
                "or use a model whose data has labels.")
    else:
        link |= _attribute(selection, latents, terms)
        link |= _arithmetic(selection, latents, terms)
    sidebar.publish(selection, link)
