"""Data: built-ins, user .npz and .zip files, and one clear message for each kind of bad input."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer import data
from explorer.data import DataLimits, make_dataset
from explorer.datafiles import load_dataset
from explorer.datafiles import load_dataset_file


def npz_bytes(**arrays) -> io.BytesIO:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    return buffer


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    buffer.seek(0)
    return buffer


# --- built-ins ---------------------------------------------------------------------------------------------------


def test_mnist5k_is_the_offline_default_with_a_fixed_split():
    ds = load_dataset("mnist5k")
    assert ds.images.shape == (5000, 1, 28, 28) and ds.images.dtype == np.uint8  # kept compact
    assert 0 == ds.images.min() and ds.images.max() == 255
    floats = ds.pixels(np.arange(3))
    assert floats.dtype == np.float32 and floats.max() <= 1.0 and np.array_equal(floats * 255, ds.images[:3])
    assert ds.label_names == tuple(str(i) for i in range(10))
    assert np.bincount(ds.labels).tolist() == [500] * 10
    assert len(ds.train_index) == 4000 and len(ds.test_index) == 1000
    assert not set(ds.train_index) & set(ds.test_index)
    # The split is fixed: rebuilding the same data gives the same test rows.
    again = make_dataset("again", ds.images, ds.labels)
    assert np.array_equal(again.test_index, ds.test_index)


def test_digits_builtin():
    ds = load_dataset("digits")
    assert ds.images.shape == (1797, 1, 8, 8) and ds.num_classes == 10
    assert ds.images.max() == 255 and ds.pixels(slice(None)).max() == 1.0


def test_datasets_are_read_only_so_a_cached_one_can_be_shared():
    ds = load_dataset("digits")
    with pytest.raises(ValueError):
        ds.images[0, 0, 0, 0] = 1


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_online_sets_fail_offline_naming_the_offline_choices(name):
    with pytest.raises(ValueError, match=r"offline, choose mnist5k, digits"):
        load_dataset(name)


def test_online_set_download_failure_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("EXPLORER_OFFLINE")

    def no_network(*args, **kwargs):
        raise data.urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data.urllib.request, "urlopen", no_network)
    with pytest.raises(ValueError, match=r"Could not download the mnist data set: this server cannot reach its "
                       r"source\. It needs the internet once") as error:
        load_dataset("mnist")
    assert "Name or service" not in str(error.value)  # the network library's words stay out of it


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_online_set_loads_from_its_cache_with_the_official_split():
    folder = data.data_cache_dir() / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    parts = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(12) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(5),
    }
    for filename, array in parts.items():
        (folder / filename).write_bytes(_idx(array))
    ds = data._idx_dataset("fashion-mnist")
    assert ds.images.shape == (17, 1, 28, 28)
    assert ds.test_index.tolist() == list(range(12, 17))
    assert ds.label_names[9] == "Ankle boot"


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"No data set or file named 'cifar'.*mnist5k, digits"):
        load_dataset("cifar")


# --- .npz --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "images, shape",
    [
        (np.zeros((6, 10, 12), np.uint8), (1, 10, 12)),
        (np.zeros((6, 10, 12, 3), np.uint8), (3, 10, 12)),
        (np.zeros((6, 3, 10, 12), np.float32), (3, 10, 12)),
        (np.zeros((6, 1, 10, 12), np.float64), (1, 10, 12)),
        (np.zeros((6, 10, 12, 1), np.uint8), (1, 10, 12)),
    ],
)
def test_npz_layouts(images, shape):
    ds = load_dataset_file(npz_bytes(images=images), "set.npz")
    assert ds.image_shape == shape and ds.labels is None and ds.num_classes == 0


def test_npz_uint8_is_scaled_and_labels_and_names_are_kept():
    images = np.full((4, 8, 8), 255, np.uint8)
    ds = load_dataset_file(npz_bytes(images=images, labels=[0, 1, 1, 0], label_names=["cat", "dog"]), "pets.npz")
    assert ds.pixels(slice(None)).max() == 1.0 and ds.name == "pets"
    assert ds.labels.tolist() == [0, 1, 1, 0] and ds.label_names == ("cat", "dog")


def test_npz_string_labels_become_classes():
    ds = load_dataset_file(npz_bytes(x=np.zeros((3, 8, 8)), y=np.array(["b", "a", "b"])), "s.npz")
    assert ds.label_names == ("a", "b") and ds.labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize("labels, names", [
    (np.array([f"class {i}" for i in range(1001)]), None),  # text labels: one class per distinct text
    (np.arange(1001) % 3, [f"class {i}" for i in range(1001)]),  # numbers, but names for more classes
])
def test_the_class_cap_holds_when_the_file_is_read(labels, names):
    arrays = dict(images=np.zeros((1001, 8, 8), np.uint8), labels=labels)
    if names is not None:
        arrays["label_names"] = np.array(names)
    with pytest.raises(ValueError, match=r"^There are 1,001 classes; at most 1,000 are supported\. Group"):
        load_dataset_file(npz_bytes(**arrays), "many.npz")


def test_npz_positional_arrays():
    ds = load_dataset_file(npz_bytes(arr_0=np.zeros((3, 8, 8)), arr_1=np.array([2, 0, 1])), "p.npz")
    assert ds.num_classes == 3


BAD_NPZ = [
    (dict(images=np.zeros((4, 8))), r"shaped \(N, H, W\).*got 2 dimension"),
    (dict(images=np.zeros((4, 8, 8, 4))), r"4 channels; use 1 \(grey\) or 3 \(RGB\)"),
    (dict(images=np.full((4, 8, 8), np.nan)), r"NaN or infinite"),
    (dict(images=np.full((4, 8, 8), np.inf)), r"NaN or infinite"),
    (dict(images=np.full((4, 8, 8), 1.5)), r"must lie in \[0, 1\].*divide by 255"),
    (dict(images=np.full((4, 8, 8), -0.5)), r"must lie in \[0, 1\]"),
    (dict(images=np.full((4, 8, 8), 300, np.int32)), r"0-255; these span 300 to 300"),
    (dict(images=np.zeros((0, 8, 8))), r"empty"),
    (dict(images=np.zeros((1, 8, 8))), r"fewer than 2 images"),
    (dict(images=np.zeros((4, 2, 2))), r"2x2 pixels; use sizes from 4"),
    (dict(images=np.zeros((4, 8, 8)), labels=[0, 1, 2]), r"3 labels for 4 images"),
    (dict(images=np.zeros((4, 8, 8)), labels=[0, -1, 2, 1]), r"negative"),
    (dict(images=np.zeros((4, 8, 8)), labels=[0, 0.5, 2, 1]), r"whole class numbers"),
    (dict(images=np.zeros((4, 8, 8)), labels=[0, 1, 2, 1], label_names=["a"]), r"1 label names but labels go up to 2"),
    (dict(stuff=np.zeros(3), other=np.zeros(3)), r"holds arrays \['stuff', 'other'\]; name the image array 'images'"),
]


@pytest.mark.parametrize("arrays, message", BAD_NPZ)
def test_bad_npz_gets_one_clear_message(arrays, message):
    with pytest.raises(ValueError, match=message):
        load_dataset_file(npz_bytes(**arrays), "bad.npz")


def test_npz_with_python_objects_is_refused_without_unpickling():
    evil = np.empty(2, dtype=object)
    evil[:] = [{"a": 1}, {"b": 2}]
    with pytest.raises(ValueError, match=r"contains Python objects, which are never loaded"):
        load_dataset_file(npz_bytes(images=evil), "evil.npz")


def test_npz_that_is_not_an_npz():
    with pytest.raises(ValueError, match=r"not a readable \.npz file"):
        load_dataset_file(io.BytesIO(b"hello, not a zip"), "fake.npz")


def test_image_count_cap_is_configurable():
    with pytest.raises(ValueError, match=r"has 10 images; the limit is 5"):
        load_dataset_file(npz_bytes(images=np.zeros((10, 8, 8))), "big.npz", limits=DataLimits(max_images=5))


def test_npz_expanding_past_the_cap_is_refused_before_reading():
    with pytest.raises(ValueError, match=r"expands to .* MB, over the"):
        load_dataset_file(
            npz_bytes(images=np.zeros((64, 64, 64))), "bomb.npz", limits=DataLimits(max_uncompressed_bytes=10_000)
        )


def test_unknown_file_type(tmp_path):
    path = tmp_path / "images.txt"
    path.write_text("hi")
    with pytest.raises(ValueError, match=r"neither a \.npz array file nor a \.zip"):
        load_dataset(path)


def test_load_dataset_reads_a_path(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, images=np.zeros((5, 8, 8), np.uint8), labels=np.arange(5))
    assert load_dataset(path).num_classes == 5


# --- .zip of label folders ---------------------------------------------------------------------------------------


def test_zip_of_label_folders_resized_to_the_common_size():
    grey = np.full((20, 16), 200, np.uint8)
    entries = {
        "set/cats/a.png": png_bytes(grey),
        "set/cats/b.png": png_bytes(grey),
        "set/dogs/c.jpg": png_bytes(np.full((40, 32), 50, np.uint8), "JPEG"),
        "set/dogs/.hidden.png": b"junk that is skipped",
        "__MACOSX/set/dogs/._c.jpg": b"junk that is skipped",
        "set/readme.txt": b"not an image, ignored",
    }
    ds = load_dataset_file(zip_bytes(entries), "pets.zip")
    assert ds.image_shape == (1, 20, 16)  # grey, the most common size (H=20, W=16)
    assert ds.label_names == ("cats", "dogs") and ds.labels.tolist() == [0, 0, 1]
    assert abs(ds.pixels(0).mean() - 200 / 255) < 1e-6


def test_zip_with_colour_images_keeps_rgb_and_downscales_large_ones():
    red = np.zeros((100, 100, 3), np.uint8)
    red[..., 0] = 255
    ds = load_dataset_file(zip_bytes({"r/1.png": png_bytes(red), "g/2.png": png_bytes(red[..., ::-1].copy())}), "c.zip")
    assert ds.image_shape == (3, 64, 64)
    red_row = ds.label_names.index("r")  # one image per label: row i is label i (entries are sorted)
    assert ds.pixels(red_row)[0].mean() > 0.99 and ds.pixels(red_row)[2].mean() < 0.01


BAD_ZIPS = [
    ({"../evil/x.png": b"x"}, r"entry '../evil/x.png' that points outside the archive"),
    ({"/etc/x/y.png": b"x"}, r"points outside the archive"),
    ({"a/..\\..\\x.png": b"x"}, r"points outside the archive"),
    ({"C:/x/y.png": b"x"}, r"entry 'C:/x/y.png' that points outside the archive"),  # a Windows drive
    ({"d:\\x\\y.png": b"x"}, r"points outside the archive"),
    ({"cats/broken.png": b"\x89PNG not really"}, r"'cats/broken.png' in 'bad.zip' could not be read"),
    ({"loose.png": b"x"}, r"outside any folder; put each image in a folder named after its label"),
    ({"notes/readme.txt": b"x"}, r"holds no PNG or JPEG images"),
]


@pytest.mark.parametrize("entries, message", BAD_ZIPS)
def test_bad_zip_gets_one_clear_message(entries, message):
    with pytest.raises(ValueError, match=message):
        load_dataset_file(zip_bytes(entries), "bad.zip")


def test_a_colon_inside_a_folder_name_is_only_part_of_a_label():
    grey = png_bytes(np.zeros((8, 8), np.uint8))
    ds = load_dataset_file(zip_bytes({"a:b/0/1.png": grey, "a:b/1/2.png": grey, "x:y/3.png": grey}), "colons.zip")
    assert ds.label_names == ("0", "1", "x:y")


def test_zip_that_is_not_a_zip():
    with pytest.raises(ValueError, match=r"not a readable zip of images"):
        load_dataset_file(io.BytesIO(b"PK but not really"), "bad.zip")


def test_zip_bomb_is_refused_by_its_expanded_size():
    bomb = zip_bytes({"a/big.png": b"\0" * 2_000_000})
    with pytest.raises(ValueError, match=r"expands to .* MB, over the"):
        load_dataset_file(bomb, "bomb.zip", limits=DataLimits(max_uncompressed_bytes=1_000_000))


def test_zip_with_too_many_images():
    entries = {f"a/{i}.png": png_bytes(np.zeros((8, 8), np.uint8)) for i in range(6)}
    with pytest.raises(ValueError, match=r"holds 6 images; the limit is 5"):
        load_dataset_file(zip_bytes(entries), "many.zip", limits=DataLimits(max_images=5))


def test_zip_with_a_giant_image_is_refused_before_decoding():
    entries = {"a/huge.png": png_bytes(np.zeros((300, 300), np.uint8))}
    with pytest.raises(ValueError, match=r"300x300 pixels, too large"):
        load_dataset_file(zip_bytes(entries), "huge.zip", limits=DataLimits(max_image_pixels=200 * 200))


def test_mnist5k_is_parsed_once_then_read_from_the_cache(monkeypatch):
    first = data._mnist5k()
    assert (data.data_cache_dir() / "mnist5k-v1.npz").exists()
    with monkeypatch.context() as patch:
        patch.setattr(data.np, "loadtxt", lambda *a, **k: pytest.fail("parsed the CSV again"))
        again = data._mnist5k()
    assert np.array_equal(again.images, first.images) and np.array_equal(again.test_index, first.test_index)
    (data.data_cache_dir() / "mnist5k-v1.npz").write_bytes(b"damaged")
    assert np.array_equal(data._mnist5k().labels, first.labels)  # a damaged cache is parsed afresh
