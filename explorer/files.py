"""Files: written whole or not at all, and read behind one boundary that turns any failure into one message."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path
from typing import BinaryIO
from collections.abc import Callable

import numpy as np

_log = logging.getLogger(__name__)


TEMP_SUFFIX = ".tmp"


def _written_temp(path: Path, payload: bytes | Callable[[BinaryIO], None]) -> str:
    """The payload (bytes, or a function that writes it to a file) in a hidden temp file beside `path`, flushed to
    disk (the caller moves or links it into place).
    Its name, .NAME.PID.RANDOM.tmp, carries the writer's process id, so a killed writer's file is known at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                         delete=False)
    try:
        with handle:
            payload(handle) if callable(payload) else handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # temp files are private (0600); these are ordinary files
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return handle.name


def write_atomically(path: str | os.PathLike, payload: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write to a temp file in the same folder, flush it to disk, then rename it into place.

    A crash mid-write leaves the old file (or none) under the real name, never half a file.
    """
    path = Path(path)
    temp = _written_temp(path, payload)
    try:
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def write_new(path: str | os.PathLike, payload: bytes | Callable[[BinaryIO], None]) -> Path:
    """Like write_atomically, but only if nothing has that name: a hard link fails if the name exists, so two
    writers racing for one name cannot both succeed (FileExistsError for the second)."""
    path = Path(path)
    temp = _written_temp(path, payload)
    try:
        os.link(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)
    return path


def remove_stale_temps(folder: str | os.PathLike, older_than_s: float = 600.0) -> int:
    """Delete the temp files a crash mid-write left in a folder: those whose writer has ended, and any older than
    older_than_s (a writer's process id can be reused); a live writer's newer ones are kept."""
    count, now = 0, time.time()
    for temp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        try:
            if _writer_ended(temp) or now - temp.stat().st_mtime > older_than_s:
                temp.unlink()
                count += 1
        except OSError:
            pass  # gone already, or not ours to delete
    return count


def _writer_ended(temp: Path) -> bool:
    """Whether the process named in a temp file's name (.NAME.PID.RANDOM.tmp) is gone; False when none is named."""
    parts = temp.name.split(".")
    if os.name != "posix" or len(parts) < 5 or not re.fullmatch(r"[0-9]{1,9}", parts[-3]):
        return False  # (on Windows, os.kill(pid, 0) would end that process: only the age counts there)
    try:
        os.kill(int(parts[-3]), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        pass  # it exists, as another user's process
    return False


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """Plain arrays as the bytes of an .npz file (loadable with allow_pickle=False)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _why(error: BaseException) -> str:
    """Why a file could not be read, in words for the person who gave it (never a server path or a traceback)."""
    if isinstance(error, zipfile.BadZipFile):
        return "its archive is damaged (a checksum or size does not match)"
    if isinstance(error, NotImplementedError):
        return "it uses a compression method this app does not read; save it with standard (deflate) compression"
    if isinstance(error, RuntimeError) and "encrypted" in str(error).lower():
        return "it is password-protected; save it without a password"
    if isinstance(error, RecursionError):
        return "its contents are nested too deeply"
    if isinstance(error, MemoryError):
        return "it is too large to read here"
    return "it is damaged or of another format"


def _raised_here(error: BaseException) -> bool:
    """Whether the innermost Python frame of the error's traceback is this package's (a message we wrote)."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_globals.get("__name__", "").partition(".")[0] == __package__


@contextlib.contextmanager
def reading(what: str, error: type[ValueError] = ValueError):
    """The boundary around reading a user's file: any failure leaves as one `error` saying what is wrong.

    A ValueError this app raised already says what is wrong and what to do, and passes unchanged; anything else
    (a library's own exception about a damaged file, ValueErrors included: their text quotes the file's innards or
    advises trusting it) is put in words here, and logged for the server's operator.
    """
    try:
        yield
    except Exception as failure:  # noqa: BLE001 - the point of the boundary: no other exception reaches a visitor
        if isinstance(failure, ValueError) and _raised_here(failure):
            raise
        _log.info("could not read %s: %r", what, failure)
        raise error(f"{what} could not be read: {_why(failure)}.") from None
