"""Uploads let go once read. Streamlit keeps an uploaded file's bytes in the server's memory for as long as its
widget holds the file (until the visitor removes it, or the session ends minutes after the tab closes): a 60 MB
upload that was refused, or already turned into a data set, would stay 60 MB per visitor. So once read, the file
is dropped from Streamlit's store and the widget is drawn afresh under a new key (its old state, which holds
the file too, goes with the old key)."""

from __future__ import annotations

from typing import Callable

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explorer.ui import session


def key(base: str) -> str:
    """The upload widget's key now: a new one after each file read."""
    count = session.visitor().uploads_read.get(base, 0)
    return base if count == 0 else f"{base}-{count}"


def let_go(upload, base: str) -> None:
    """Drop a read upload's bytes from Streamlit's store, and draw its widget afresh next run."""
    me = session.visitor()
    me.uploads_read = {**me.uploads_read, base: me.uploads_read.get(base, 0) + 1}
    context = get_script_run_ctx()
    if upload is not None and context is not None and runtime.exists():
        runtime.get_instance().uploaded_file_mgr.remove_file(context.session_id, upload.file_id)


def read(key: str, base: str, use: Callable) -> str | None:
    """An upload widget's callback: `use` its file (raising ValueError for a bad one), then let the file go.
    Returns the problem, in words that name the file, or None."""
    upload = session.widget_value(key)
    if upload is None:
        return None
    try:
        use(upload)
    except ValueError as error:  # the file, or the memory budget
        return str(error) if upload.name in str(error) else f"{upload.name}: {error}"
    finally:
        let_go(upload, base)
    return None
