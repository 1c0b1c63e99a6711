"""A hostile visitor's files in a real browser: one message on the page, no traceback, and the page goes on."""

from __future__ import annotations

import io

import numpy as np


def _damaged_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros((6, 8, 8), np.uint8))
    data = bytearray(buffer.getvalue())
    data[data.index(b"PK\x01\x02") + 16] ^= 0xFF  # the CRC zipfile checks the data against
    return bytes(data)


def test_a_damaged_upload_and_a_markup_file_name_get_one_plain_message(page, server):
    page.goto(f"{server.url}/train")
    chooser = page.locator("[class*='st-key-train_upload'] input[type='file']")
    chooser.set_input_files({"name": "[log in](http:__host)_![x](t).npz", "mimeType": "application/octet-stream",
                             "buffer": _damaged_npz()})
    alert = page.locator("[data-testid='stAlertContentError']")
    alert.wait_for()
    text = alert.inner_text()
    assert "could not be read: its archive is damaged" in text and "Nothing was changed." in text
    assert "[log in](http:" in text  # the file's name as typed: no link, no image
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMain'] a[href*='host'], [data-testid='stMain'] img[src*='t']").count() == 0
    page.locator(".st-key-train_start button").wait_for()  # the page goes on: Start is there, the data unchanged
    assert "mnist5k" in (page.locator(".st-key-train_data").text_content()
                         + page.locator(".st-key-train_data input").first.input_value())
