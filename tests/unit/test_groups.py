"""Groups and latent arithmetic: names, the link's short form of rows, means, vectors and nearest images."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data import make_dataset
from explorer.groups import (STRENGTHS, along, attribute_vector, groups_text, make_group, mean_latent, nearest_rows,
                             parse_groups, parse_rows, positions, rows_text, summarise)
from explorer.latent import Latents


def latents() -> Latents:
    mu = np.array([[0, 0], [2, 0], [4, 0], [0, 2], [0, 4]], np.float32)
    return Latents(mu, None, np.array([0, 0, 1, 1, 1]), np.array([3, 5, 8, 9, 12]))


def test_names_are_checked_and_rows_kept_sorted_and_unique():
    assert make_group("  slanted 7s ", [5, 3, 5]).rows == (3, 5)
    assert make_group("slanted 7s", [1]).name == "slanted 7s"
    for bad in ("", "<b>x</b>", "[a](http://x)", "a" * 31, "_lead", "semi;colon", "co:lon"):
        with pytest.raises(ValueError, match="cannot name a group"):
            make_group(bad, [1])
    with pytest.raises(ValueError, match="at least one image"):
        make_group("empty", [])


@pytest.mark.parametrize("rows", [(1, 2, 3, 7), (0,), tuple(range(0, 5000, 7)), (4999,), (2, 3, 4, 5, 6, 100, 101)])
def test_rows_round_trip_through_their_link_text(rows):
    text = rows_text(rows)
    assert parse_rows(text, 5000) == rows


def test_runs_for_ranges_and_a_compressed_mask_for_scattered_rows():
    assert rows_text((1, 2, 3, 7)) == "1-3,7"
    scattered = tuple(np.random.default_rng(0).choice(5000, 300, replace=False).tolist())
    text = rows_text(scattered)
    assert text.startswith("~") and len(text) < len(",".join(map(str, scattered))) / 2


@pytest.mark.parametrize("text", ["1-3,x", "5-2", "0-5000", "~!!!", "~" + "A" * 40, "-1", "1,,2", "99999999"])
def test_bad_rows_in_a_link_are_refused(text):
    with pytest.raises(ValueError):
        parse_rows(text, 5000)


def test_a_mask_that_would_inflate_past_the_data_is_cut_short():
    huge = rows_text(tuple(range(0, 80_000, 2)))
    with pytest.raises(ValueError, match="not in a data set of 100"):
        parse_rows(huge, 100)


def test_groups_round_trip():
    groups = [make_group("with glasses", [1, 2, 9]), make_group("plain", [4])]
    assert parse_groups(groups_text(groups), 10) == groups
    with pytest.raises(ValueError):
        parse_groups("no rows here", 10)


def test_positions_of_labels_groups_and_picks_in_a_split():
    rows = latents()
    groups = {"g": make_group("g", [5, 9, 100])}  # 100 is in another split
    assert positions("label:1", rows, groups, []).tolist() == [2, 3, 4]
    assert positions("group:g", rows, groups, []).tolist() == [1, 3]
    assert positions("pick:B", rows, groups, [12, 8]).tolist() == [2]
    for missing in ("pick:B", "group:nope", "label:x", "other:1"):
        assert positions(missing, rows, groups, [3]).tolist() == []


def test_vector_is_the_difference_of_means_and_the_strip_moves_along_it():
    rows = latents()
    vector = attribute_vector(rows, np.array([2, 4]), np.array([0]))  # mean (2, 2) - (0, 0)
    np.testing.assert_allclose(vector, [2, 2])
    strip = along(np.array([1, 1], np.float32), vector)
    assert len(strip) == len(STRENGTHS) == 9
    np.testing.assert_allclose(strip[0], [-3, -3])
    np.testing.assert_allclose(strip[4], [1, 1])  # strength 0: the point itself
    np.testing.assert_allclose(strip[-1], [5, 5])
    with pytest.raises(ValueError, match="none of its images"):
        mean_latent(rows, np.array([], np.int64))


def test_nearest_rows_nearest_first():
    rows = latents()
    found = nearest_rows(rows, np.array([[3.9, 0.1], [0.1, 1.2]]), k=2)
    assert found.tolist() == [[8, 5], [9, 3]]


def test_summary_size_mean_image_and_label_mix():
    images = np.zeros((4, 1, 8, 8), np.uint8)
    images[1] = 255
    data = make_dataset("d", images, np.array([0, 1, 1, 2]))
    summary = summarise(data, [0, 1])
    assert summary.size == 2
    np.testing.assert_allclose(summary.mean_image, 0.5)
    assert summary.label_counts.tolist() == [1, 1, 0]


def test_a_link_may_not_name_more_groups_than_a_visitor_keeps_nor_one_twice():
    from explorer.groups import MAX_GROUPS

    many = ";".join(f"g{i}:{i}" for i in range(MAX_GROUPS + 1))
    with pytest.raises(ValueError, match="more than the 20"):
        parse_groups(many, 100)
    with pytest.raises(ValueError, match="names a group twice"):
        parse_groups("a:1-5;a:6-9", 100)
