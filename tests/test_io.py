"""Input policy: every kind of input image works and comes back in its own mode and depth."""

import json
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from zssr.cli import main
from zssr.io import (
    ImageReadError,
    image_size,
    read_image,
    temporary_name,
    write_image,
    write_json,
)

TINY = ["--init-weights", "", "--max-iters", "2", "--depth", "2", "--width", "4",
        "--crop-size", "12", "--test-every", "1", "--lr-slope-range", "2",
        "--back-projection-iters", "1", "-q"]
H, W = 12, 16


def _rng():
    return np.random.default_rng(7)


def _cv(path, rgb):  # write RGB(A) arrays with OpenCV's BGR(A) order
    arr = rgb if rgb.ndim == 2 else rgb[:, :, [2, 1, 0, 3][: rgb.shape[2]]]
    assert cv2.imwrite(str(path), arr)


def make_gray8(p):
    _cv(p, (_rng().random((H, W)) * 255).astype(np.uint8))


def make_rgb8(p):
    _cv(p, (_rng().random((H, W, 3)) * 255).astype(np.uint8))


def make_rgba8(p):
    a = (_rng().random((H, W, 4)) * 255).astype(np.uint8)
    a[:, :, 3] = 128
    _cv(p, a)


def make_la8(p):
    a = (_rng().random((H, W)) * 255).astype(np.uint8)
    Image.fromarray(np.dstack([a, np.full_like(a, 128)]), "LA").save(p)


def make_palette(p):
    im = Image.fromarray((_rng().random((H, W)) * 3).astype(np.uint8), "P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    im.save(p)


def make_palette_alpha(p):
    im = Image.fromarray((_rng().random((H, W)) * 3).astype(np.uint8), "P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    im.save(p, transparency=0)


def make_gray16(p):
    _cv(p, (_rng().random((H, W)) * 65535).astype(np.uint16))


def make_rgb16(p):
    _cv(p, (_rng().random((H, W, 3)) * 65535).astype(np.uint16))


def make_rgba16(p):
    a = (_rng().random((H, W, 4)) * 65535).astype(np.uint16)
    a[:, :, 3] = 40000
    _cv(p, a)


def make_float_rgb(p):
    _cv(p, _rng().random((H, W, 3)).astype(np.float32))


def make_float_gray(p):
    _cv(p, _rng().random((H, W)).astype(np.float32))


def make_jpeg_exif(p):
    ex = Image.Exif()
    ex[0x0112] = 6  # stored sideways: display = 90 degrees clockwise
    Image.fromarray((_rng().random((H, W, 3)) * 255).astype(np.uint8)).save(p, exif=ex)


# name: (maker, file suffix, output suffix, channels, dtype, alpha value or None, (h, w) of input)
KINDS = {
    "gray8": (make_gray8, ".png", ".png", 1, np.uint8, None, (H, W)),
    "rgb8": (make_rgb8, ".png", ".png", 3, np.uint8, None, (H, W)),
    "rgba8": (make_rgba8, ".png", ".png", 4, np.uint8, 128, (H, W)),
    "gray_alpha8": (make_la8, ".png", ".png", 2, np.uint8, 128, (H, W)),
    "palette": (make_palette, ".png", ".png", 3, np.uint8, None, (H, W)),
    "palette_transparency": (make_palette_alpha, ".png", ".png", 4, np.uint8, None, (H, W)),
    "gray16": (make_gray16, ".png", ".png", 1, np.uint16, None, (H, W)),
    "rgb16": (make_rgb16, ".png", ".png", 3, np.uint16, None, (H, W)),
    "rgba16": (make_rgba16, ".png", ".png", 4, np.uint16, 40000, (H, W)),
    "float_rgb": (make_float_rgb, ".tif", ".tif", 3, np.float32, None, (H, W)),
    "float_gray": (make_float_gray, ".tif", ".tif", 1, np.float32, None, (H, W)),
    "jpeg_exif_rotated": (make_jpeg_exif, ".jpg", ".png", 3, np.uint8, None, (W, H)),
}


def _read_output(path):
    if path.suffix == ".png" and Image.open(path).mode == "LA":
        return np.asarray(Image.open(path))
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize("kind", KINDS)
def test_input_kind_round_trip(kind, tmp_path):
    maker, suffix, out_suffix, channels, dtype, alpha, (h, w) = KINDS[kind]
    src = tmp_path / f"in{suffix}"
    maker(src)
    original = src.read_bytes()
    assert main([str(src), "-o", str(tmp_path / "out"), *TINY]) == 0
    out = tmp_path / "out" / f"in_zssr_x2{out_suffix}"
    data = _read_output(out)
    assert data.shape[:2] == (2 * h, 2 * w)
    assert (1 if data.ndim == 2 else data.shape[2]) == channels
    assert data.dtype == dtype
    if alpha is not None:
        assert np.all(data[:, :, -1] == alpha)  # constant alpha survives bicubic exactly
    assert src.read_bytes() == original  # the input is never touched
    meta = json.loads((tmp_path / "out" / "in_zssr_x2.json").read_text())
    assert meta["input_dtype"] == np.dtype(dtype).name
    assert meta["output_height_width"] == [2 * h, 2 * w]


def test_exif_orientation_matches_pillow(tmp_path):
    src = tmp_path / "o.jpg"
    make_jpeg_exif(src)
    ours = read_image(src).pixels
    ref = np.asarray(ImageOps.exif_transpose(Image.open(src))).astype(np.float32) / 255
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation(tmp_path, orientation):
    src = tmp_path / "o.jpg"
    ex = Image.Exif()
    ex[0x0112] = orientation
    Image.fromarray((_rng().random((6, 10, 3)) * 255).astype(np.uint8)).save(src, exif=ex,
                                                                            quality=100)
    ref = np.asarray(ImageOps.exif_transpose(Image.open(src))).astype(np.float32) / 255
    np.testing.assert_array_equal(read_image(src).pixels, ref)


def test_bit_depth_from_dtype_not_values(tmp_path):
    src = tmp_path / "dark16.png"
    cv2.imwrite(str(src), np.full((8, 8), 200, np.uint16))  # values fit in 8 bits
    loaded = read_image(src)
    assert loaded.info.dtype == "uint16"
    np.testing.assert_allclose(loaded.pixels, 200 / 65535)


def test_float_values_outside_range_are_clipped_and_counted(tmp_path):
    src = tmp_path / "hdr.tif"
    a = np.full((8, 8, 3), 0.5, np.float32)
    a[0, 0] = 2.0
    cv2.imwrite(str(src), a)
    loaded = read_image(src)
    assert loaded.pixels.max() == 1.0
    assert loaded.info.clipped_fraction == pytest.approx(3 / 192)


def test_write_is_atomic_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "x.png"
    write_image(path, np.zeros((4, 4, 3)))
    with pytest.raises(FileExistsError, match="overwrite=True") as exc:
        write_image(path, np.ones((4, 4, 3)))
    assert "--" not in str(exc.value)  # API terms; the CLI translates them into its flags
    assert cv2.imread(str(path)).max() == 0
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        image = write_image(tmp_path / "x.png", np.zeros((4, 4, 3)))
        sidecar = write_json(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(image.stat().st_mode) == mode
    assert stat.S_IMODE(sidecar.stat().st_mode) == mode


def test_a_final_name_of_255_bytes_can_be_written(tmp_path):
    name = "n" * (255 - len(".png")) + ".png"
    path = write_image(tmp_path / name, np.zeros((4, 4, 3)))
    assert path.name == name and cv2.imread(str(path)).shape == (4, 4, 3)
    short = write_json(tmp_path / "a.json", {"a": 1})  # names shorter than the token work too
    assert json.loads(short.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "a.json"])


@pytest.mark.parametrize("name", ["a.png", "photo.json", "é" * 100 + ".tif", "x" * 251 + ".png"])
def test_the_temporary_name_is_hidden_keeps_the_suffix_and_is_never_longer(name):
    tmp = temporary_name(name, "0123abcd")
    assert tmp.startswith(".0123abcd") and tmp.endswith(Path(name).suffix)
    limit = max(len(os.fsencode(name)), len(".0123abcd") + len(Path(name).suffix))
    assert len(os.fsencode(tmp)) <= limit


def test_image_size_reads_the_header_only(tmp_path, png_header_only):
    src = tmp_path / "a.png"
    cv2.imwrite(str(src), np.zeros((5, 9, 3), np.uint8))
    assert image_size(src) == (5, 9)
    # Far beyond Pillow's decompression-bomb limit: still only the size, no Pillow error
    assert image_size(png_header_only(tmp_path / "huge.png", 100000, 70000)) == (70000, 100000)
    assert image_size(tmp_path / "missing.png") is None
    (tmp_path / "text.png").write_text("not an image")
    assert image_size(tmp_path / "text.png") is None


def test_a_header_too_large_for_opencv_reads_as_our_error(tmp_path, png_header_only):
    src = png_header_only(tmp_path / "huge.png", 100000, 100000)
    with pytest.raises(ImageReadError, match="huge.png") as exc:
        read_image(src)
    assert "OpenCV" not in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("subsampling", [0, 1, 2])
def test_jpeg_info_reads_the_quality_a_file_was_saved_at(tmp_path, natural_image, subsampling):
    from zssr.io import jpeg_info

    pixels = (natural_image * 255).round().astype(np.uint8)
    for quality in range(30, 96, 5):
        path = tmp_path / f"q{quality}.jpg"
        Image.fromarray(pixels).save(path, quality=quality, subsampling=subsampling)
        info = jpeg_info(path)
        assert info.quality == quality and info.standard and info.mismatch == 0.0, info
        assert info.subsampling == ("4:4:4", "4:2:2", "4:2:0")[subsampling]


def test_jpeg_info_of_gray_opencv_and_misnamed_files(tmp_path, natural_image):
    from zssr.io import jpeg_info

    pixels = (natural_image * 255).round().astype(np.uint8)
    Image.fromarray(pixels[:, :, 0]).save(tmp_path / "gray.jpg", quality=62)
    assert jpeg_info(tmp_path / "gray.jpg").quality == 62
    cv2.imwrite(str(tmp_path / "cv.jpg"), pixels, [cv2.IMWRITE_JPEG_QUALITY, 83])
    assert jpeg_info(tmp_path / "cv.jpg").quality == 83
    Image.fromarray(pixels).save(tmp_path / "really_a_jpeg.png", format="JPEG", quality=40)
    assert jpeg_info(tmp_path / "really_a_jpeg.png").quality == 40
    Image.fromarray(pixels).save(tmp_path / "plain.png")
    assert jpeg_info(tmp_path / "plain.png") is None
    assert jpeg_info(tmp_path / "missing.jpg") is None


def test_jpeg_info_of_custom_tables_is_the_nearest_quality(tmp_path, natural_image):
    from zssr.io import ijg_tables, jpeg_info

    pixels = (natural_image * 255).round().astype(np.uint8)
    tables = [np.clip(t * 1.1 + 1, 1, 255).astype(int).tolist()
              for t in ijg_tables(80).values()]
    Image.fromarray(pixels).save(tmp_path / "camera.jpg", qtables=tables)
    info = jpeg_info(tmp_path / "camera.jpg")
    assert not info.standard and info.mismatch > 0
    assert 74 <= info.quality <= 79


def test_jpeg_info_reads_phone_files_with_several_pictures(tmp_path, natural_image):
    from zssr.io import jpeg_info

    pixels = (natural_image * 255).round().astype(np.uint8)
    frames = [Image.fromarray(pixels), Image.fromarray(pixels[::-1])]
    frames[0].save(tmp_path / "phone.jpg", format="MPO", save_all=True,
                   append_images=frames[1:], quality=70)
    with Image.open(tmp_path / "phone.jpg") as im:
        assert im.format == "MPO"
    assert jpeg_info(tmp_path / "phone.jpg").quality == 70
    with pytest.raises(ValueError, match="1..100"):
        from zssr.io import ijg_tables

        ijg_tables(0)
