"""Uploads let go once read. Streamlit keeps an uploaded file's bytes in the server's memory for as long as its
widget holds the file (until the visitor removes it, or the session ends minutes after the tab closes): a 60 MB
upload that was refused, or already turned into a data set, would stay 60 MB per visitor. So once read, the file
is dropped from Streamlit's store and the widget is drawn afresh under a new key (its old state, which holds
the file too, goes with the old key)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from collections.abc import Callable

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explorer.budget import MB
from explorer.ui import session

# What Streamlit's upload store may hold at once, checked as each file arrives (Streamlit itself only caps one
# file, at server.maxUploadSize): per visitor, the largest real need (one 64 MB data file, or a hundred
# pictures to score); for all visitors together, room for a few such visitors.
SESSION_FILES = 100
SESSION_BYTES = 64 * MB
STORE_BYTES = 256 * MB
_refused: dict[str, tuple[str, int, str]] = {}  # session id -> (first file refused, how many, why): for its next run
_guard = threading.Lock()
_log = logging.getLogger(__name__)


@dataclass
class Read:
    """Files read per upload widget (its key changes with each)."""

    files: dict[str, int] = field(default_factory=dict)


def _why_not(storage: dict, session_id: str, size: int) -> str | None:
    mine = storage.get(session_id, {}).values()
    if len(mine) >= SESSION_FILES:
        return f"each visitor can upload {SESSION_FILES} files at once"
    if sum(len(f.data) for f in mine) + size > SESSION_BYTES:
        return f"each visitor's uploads waiting to be read can take {SESSION_BYTES // MB} MB"
    if sum(len(f.data) for files in storage.values() for f in files.values()) + size > STORE_BYTES:
        return "the server is holding as many uploads as it can right now; try again in a minute"
    return None


def guard_store() -> None:
    """Refuse a file that would take a visitor's (or the server's) uploads past the caps above, as it arrives:
    the browser shows that file as failed, and the visitor's next page run says why (`refused_note`). Once per
    process; a store other than Streamlit's in-memory one is left as it is."""
    if not runtime.exists():
        return
    manager = runtime.get_instance().uploaded_file_mgr
    storage = getattr(manager, "file_storage", None)
    if not isinstance(storage, dict) or getattr(manager, "_explorer_guarded", False):
        return
    add_file = manager.add_file

    def guarded(session_id, file) -> None:
        from starlette.exceptions import HTTPException

        with _guard:
            why = _why_not(storage, session_id, len(file.data))
            if why is None:
                return add_file(session_id=session_id, file=file)
            first, count, _ = _refused.get(session_id, (file.name, 0, why))
            _refused[session_id] = (first, count + 1, why)
        _log.warning("upload refused for session %s: %s", session_id, why)
        raise HTTPException(status_code=413, detail=why)

    manager.add_file, manager._explorer_guarded = guarded, True


def refused_note() -> str | None:
    """Which of this visitor's files were refused at the door since the last run, and why; once."""
    context = get_script_run_ctx()
    refused = _refused.pop(context.session_id, None) if context is not None else None
    if refused is None:
        return None
    first, count, why = refused
    files = repr(first) if count == 1 else f"{first!r} and {count - 1:,} more files"
    return f"{files} were not taken: {why}." if count > 1 else f"{files} was not taken: {why}."


def key(base: str) -> str:
    """The upload widget's key now: a new one after each file read."""
    count = session.page_state(Read).files.get(base, 0)
    return base if count == 0 else f"{base}-{count}"


def let_go(upload, base: str) -> None:
    """Drop a read upload's bytes from Streamlit's store, and draw its widget afresh next run."""
    read = session.page_state(Read)
    read.files = {**read.files, base: read.files.get(base, 0) + 1}
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
