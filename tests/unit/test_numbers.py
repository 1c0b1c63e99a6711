"""The words numbers and names are written with."""

from __future__ import annotations

from explorer.numbers import article


def test_an_article_goes_by_the_first_sound():
    said = {w: article(w) for w in ("ellipse", "square", "3", "8", "11", "18", "MLP VAE", "CONV autoencoder", "IWAE",
                                    "T-shirt", "X")}
    assert said == {"ellipse": "an", "square": "a", "3": "a", "8": "an", "11": "an", "18": "an", "MLP VAE": "an",
                    "CONV autoencoder": "a", "IWAE": "an", "T-shirt": "a", "X": "an"}
