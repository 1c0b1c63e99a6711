"""Groups of images on a page: the box or lasso just drawn on the Explore map, to name and keep, and the groups kept,
each with its size, mean image, label mix and CSV."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.export import latents_csv
from explorer.groups import MAX_GROUPS, make_group, summarise
from explorer.imaging import enlarge, to_uint8
from explorer.latent import Latents
from explorer.plots import label_mix
from explorer.ui import session
from explorer.ui.markup import plain
from explorer.ui.sidebar import Selection

GROUP_NAME = "group_name"
MEAN_IMAGE = 96  # pixels


@dataclass
class GroupNote:
    """What became of the last group saved, said once: ("success" | "error", message)."""

    note: tuple[str, str] | None = None


def _save(data: str) -> None:
    """Callback: keep the pending selection as a named group (an unnamed one gets the next 'group N')."""
    me, said = session.visitor(), session.page_state(GroupNote)
    kept = session.groups(data)
    typed = (session.widget_value(GROUP_NAME) or "").strip()
    name = typed or next(f"group {i}" for i in range(len(kept) + 1, 2 * len(kept) + 2) if f"group {i}" not in kept)
    try:
        group = make_group(name, me.pending_group)
    except ValueError as error:
        said.note = ("error", str(error))
        return
    replaced = group.name in kept
    if not replaced and len(kept) >= MAX_GROUPS:
        said.note = ("error", f"You keep {MAX_GROUPS} groups already: delete one on the Vectors page, or save "
                               "this one under the name of one to replace.")
        return
    kept[group.name] = group
    me.pending_group = ()
    session.set_widget(GROUP_NAME, "")
    said.note = ("success", f"{'Replaced' if replaced else 'Saved'} the group {group.name!r}: "
                             f"{len(group.rows)} images.")


def _discard() -> None:
    session.visitor().pending_group = ()


def _summary(selection: Selection, rows, key: str) -> None:
    """Size, mean image and label mix of these rows."""
    data = selection.dataset
    summary = summarise(data, rows)
    cols = st.columns([1, 2])
    cols[0].image(enlarge(to_uint8(summary.mean_image[None])[0], MEAN_IMAGE), caption="mean image", width=MEAN_IMAGE,
                  output_format="PNG")
    if summary.label_counts is not None:
        cols[1].plotly_chart(label_mix(summary.label_counts, data.label_names), key=f"mix_{key}")


def pending(selection: Selection) -> None:
    """The last box or lasso on the map: its summary, a name, Save or Discard; then a note of what was saved."""
    me, said = session.visitor(), session.page_state(GroupNote)
    note, said.note = said.note, None  # said once
    if note:
        (st.success if note[0] == "success" else st.error)(plain(note[1]))
        if note[0] == "success":
            st.page_link("explorer/ui/pages/vectors.py", label="Use it on the Vectors page", icon=":material/east:")
    if not me.pending_group:
        return
    data = selection.dataset.fingerprint
    with st.container(key="pending_group", border=True):
        st.markdown(f"**{len(me.pending_group):,} images selected**")
        _summary(selection, me.pending_group, "pending")
        st.text_input("Name the group", key=GROUP_NAME, max_chars=30, placeholder="e.g. slanted sevens",
                      help="Letters, digits, spaces, '_', '.' or '-'. Left empty, it is called 'group 1', "
                           "'group 2' ...")
        with st.container(horizontal=True):
            st.button("Save as a group", key="save_group", type="primary", on_click=_save, args=(data,))
            st.button("Discard", key="discard_group", on_click=_discard)


def _delete(data: str, name: str) -> None:
    session.groups(data).pop(name, None)


def kept(selection: Selection, latents: Latents) -> None:
    """Every group of this data set: summary, its rows as CSV (latent means of the split shown), and Delete."""
    data = selection.dataset
    groups = session.groups(data.fingerprint)
    if not groups:
        st.info("No groups yet. On the Explore page, draw a box or lasso around points (the map's toolbar) and save "
                "them as a group. Labels work as groups too, below.")
        return
    for i, group in enumerate(groups.values()):
        inside = np.isin(latents.index, group.rows)
        with st.expander(f"{plain(group.name)}: {len(group.rows):,} images ({int(inside.sum()):,} in this split)",
                         expanded=i == len(groups) - 1):
            _summary(selection, group.rows, f"group_{i}")
            subset = Latents(latents.mu[inside], None if latents.logvar is None else latents.logvar[inside],
                             None if latents.labels is None else latents.labels[inside], latents.index[inside])
            with st.container(horizontal=True):
                st.download_button("Its images (CSV)", lambda rows=subset: latents_csv(rows, data.label_names),
                                   file_name=f"{selection.file_stem}-group-{group.name.replace(' ', '_')}-"
                                             f"{selection.split}.csv",
                                   mime="text/csv", key=f"group_csv_{i}", disabled=not inside.any(), on_click="ignore",
                                   help="Row, label and latent mean of each of its images in this split.")
                st.button("Delete", key=f"delete_group_{i}", on_click=_delete, args=(data.fingerprint, group.name))

