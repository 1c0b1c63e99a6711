"""Reader failures are one message in the app's words: what is wrong with the file and what to do, never a
library's internals (numpy's header text, an object's address) nor its advice to trust the file (allow_pickle)."""

from __future__ import annotations

import ast
import io
import re
import zipfile

import numpy as np
import pytest

from explorer.data import to_labels
from explorer.datafiles import images_for_model, load_dataset_file
from explorer.files import reading

INTERNALS = re.compile(r"<ast\.|0x[0-9a-f]{4,}|allow_pickle|max_header_size|trust|descr|fortran_order|header info|"
                       r"codec|ordinal|magic string|EOF", re.IGNORECASE)


def npy(header: str, version: tuple[int, int] = (1, 0), body: bytes = bytes(512)) -> bytes:
    """An .npy member with a hand-written header (numpy pads it to a multiple of 64 bytes, ending in a newline)."""
    text = header.encode("latin1")
    size = 4 if version != (1, 0) else 2
    text += b" " * (-(6 + 2 + size + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + len(text).to_bytes(size, "little") + text + body


def npz(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, payload in members.items():
            archive.writestr(f"{key}.npy", payload)
    return buffer.getvalue()


def saved(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


GOOD = io.BytesIO()
np.lib.format.write_array(GOOD, np.zeros((4, 8, 8), np.uint8))
GOOD = GOOD.getvalue()
SHAPE = "'fortran_order': False, 'shape': (4, 8, 8), "
HOSTILE = {
    "a call in its header": npz(images=npy("{'descr': __import__('os'), " + SHAPE + "}")),
    "a header past numpy's safe size": npz(images=npy("{'descr': '|u1', " + SHAPE + "'x': '" + "a" * 12_000 + "'}",
                                                       (2, 0))),
    "an object array whose header is long": saved(images=np.zeros(2, [(f"field{i}", "O") for i in range(600)])),
    "a header without its keys": npz(images=npy("{'descr': '|u1', 'shape': (4, 8, 8)}")),
    "a header that is not a table": npz(images=npy("[1, 2]")),
    "an unknown dtype": npz(images=npy("{'descr': 'zz', " + SHAPE + "}")),
    "a negative size": npz(images=npy("{'descr': '|u1', 'fortran_order': False, 'shape': (-4, 8, 8)}")),
    "no .npy magic": npz(images=b"NOTNUMPY" + bytes(100)),
    "a cut header": npz(images=GOOD[:20]),
    "an unknown format version": npz(images=GOOD[:6] + b"\x09\x00" + GOOD[8:]),
    "a sub-array dtype": npz(images=npy("{'descr': ('|u1', (8,)), 'fortran_order': False, 'shape': (4, 8)}",
                                        body=bytes(256))),
}


@pytest.mark.parametrize("what", HOSTILE)
def test_a_hostile_npz_is_one_message_in_the_apps_words(what):
    payload = HOSTILE[what]
    for read in (lambda: load_dataset_file(io.BytesIO(payload), "evil.npz"),
                 lambda: images_for_model([("evil.npz", io.BytesIO(payload))], (1, 8, 8))):
        with pytest.raises(ValueError) as caught:
            read()
        text = str(caught.value)
        assert text.startswith("'evil.npz'") and "\n" not in text, text
        assert not INTERNALS.search(text), text
        assert "numpy.savez" in text or "save" in text, text  # what to do


def test_an_object_array_is_refused_unread_with_the_apps_reason():
    text = str(pytest.raises(ValueError, load_dataset_file, io.BytesIO(saved(images=np.array([{"a": 1}], object))),
                             "evil.npz").value)
    assert "contains Python objects, which are never loaded" in text and not INTERNALS.search(text)


def test_labels_as_bytes_that_are_not_text_are_read_as_text():
    payload = saved(images=np.zeros((3, 8, 8), np.uint8), labels=np.array([b"\xff\xfe", b"cat", b"cat"]),)
    data = load_dataset_file(io.BytesIO(payload), "bytes.npz")
    assert data.label_names == ("cat", "\ufffd\ufffd") and data.labels.tolist() == [1, 0, 0]
    named = saved(images=np.zeros((2, 8, 8), np.uint8), labels=np.array([0, 1]), label_names=np.array([b"cat", b"dog"]))
    assert load_dataset_file(io.BytesIO(named), "named.npz").label_names == ("cat", "dog")  # not "b'cat'"


def test_the_reading_boundary_words_a_librarys_value_error_and_keeps_the_apps_own():
    with pytest.raises(ValueError) as caught, reading("'x.npz'"):
        ast.literal_eval("__import__('os')")  # numpy's header parser raises this one as it is
    assert str(caught.value) == "'x.npz' could not be read: it is damaged or of another format."
    with pytest.raises(ValueError, match=r"^Labels must be whole class numbers"), reading("'x.npz'"):
        to_labels(np.array([0.5, 1.0]), None, 2)  # the app's own message passes unchanged


def test_a_label_too_large_for_int64_is_named_as_it_is():
    payload = saved(images=np.zeros((2, 8, 8), np.uint8), labels=np.array([2**64 - 1, 0], np.uint64))
    with pytest.raises(ValueError, match=r"^Labels go up to 18446744073709551615; at most 1,000 classes"):
        load_dataset_file(io.BytesIO(payload), "big.npz")  # not 'negative numbers' (the cast to int64 wraps it)
