import numpy as np
import pytest

from zssr.sampler import FatherSource, father_to_son, interpolate_son, sample_hr_father

MODES = {
    "leave_as_is": dict(leave_as_is_probability=1.0, no_interpolate_probability=0.0),
    "no_interp": dict(leave_as_is_probability=0.0, no_interpolate_probability=1.0),
    "affine": dict(leave_as_is_probability=0.0, no_interpolate_probability=0.0),
}


@pytest.mark.parametrize("mode", MODES)
def test_father_shapes_and_range(mode, rng):
    img = rng.random((150, 170, 3)).astype(np.float32)
    for _ in range(10):
        f = sample_hr_father([FatherSource(img)], rng, crop_size=64, **MODES[mode])
        assert f.ndim == 3 and f.shape[2] == 3
        assert 1 <= f.shape[0] <= 64 and 1 <= f.shape[1] <= 64
        assert f.min() >= 0 and f.max() <= 1


def test_leave_as_is_is_an_exact_crop(rng):
    img = rng.random((100, 100, 3)).astype(np.float32)
    f = sample_hr_father([FatherSource(img)], rng, crop_size=32, **MODES["leave_as_is"])
    assert f.shape == (32, 32, 3)
    # find it in the image: an exact, un-interpolated crop
    hits = [(i, j) for i in range(69) for j in range(69)
            if np.array_equal(img[i:i + 32, j:j + 32], f)]
    assert len(hits) == 1


def test_no_interp_values_are_a_permutation_of_a_crop(rng):
    img = rng.random((50, 50, 1)).astype(np.float32)
    f = sample_hr_father([FatherSource(img)], rng, crop_size=50, **MODES["no_interp"])
    np.testing.assert_array_equal(np.sort(f.ravel()), np.sort(img.ravel()))


def test_image_smaller_than_crop(rng):
    img = rng.random((20, 30, 3)).astype(np.float32)
    for mode in MODES:
        f = sample_hr_father([FatherSource(img)], rng, crop_size=128, **MODES[mode])
        assert f.shape[0] <= 30 and f.shape[1] <= 30
        son = father_to_son(f, (2.0, 2.0), None, rng)
        up = interpolate_son(son, (2.0, 2.0), f.shape[:2])
        assert up.shape == f.shape


@pytest.mark.parametrize("mode", ["affine", "no_interp"])
def test_scale_draw_picks_smallest_large_enough_source(mode, rng):
    small = np.zeros((40, 40, 3), np.float32)
    big = np.ones((80, 80, 3), np.float32)
    sources = [FatherSource(small, 1.0), FatherSource(big, 2.0)]
    seen = set()
    for _ in range(40):
        f = sample_hr_father(sources, rng, crop_size=16, min_scale=0.5, **MODES[mode])
        seen.add(float(f.mean()))
    assert seen == {0.0, 1.0}  # scales in [0.5, 2]: both sources are used
    seen = {float(sample_hr_father(sources, rng, crop_size=16, min_scale=0.5,
                                   **MODES["leave_as_is"]).mean()) for _ in range(10)}
    assert seen == {0.0}  # a plain crop always comes from the input


@pytest.mark.parametrize("scale,expected", [((2.0, 2.0), (64, 64)), ((1.5, 1.5), (86, 86)),
                                            ((2.0, 1.5), (64, 86))])
def test_son_shapes(scale, expected, rng):
    father = rng.random((128, 128, 3)).astype(np.float32)
    son = father_to_son(father, scale, None, rng)
    assert son.shape[:2] == expected
    assert interpolate_son(son, scale, father.shape[:2]).shape == father.shape


def test_son_noise_and_kernel(rng):
    father = np.full((32, 32, 3), 0.5, np.float32)
    clean = father_to_son(father, (2.0, 2.0), None, rng)
    noisy = father_to_son(father, (2.0, 2.0), None, rng, noise_std=0.05)
    assert np.allclose(clean, 0.5, atol=1e-6)
    assert 0.03 < noisy.std() < 0.07
    k = np.ones((5, 5))
    assert np.allclose(father_to_son(father, (2.0, 2.0), k, rng), 0.5, atol=1e-6)


def test_gradient_weight_map_follows_edges_has_mean_one_and_a_zero_border():
    from zssr.sampler import gradient_weight_map

    img = np.zeros((40, 50, 3), np.float32)
    img[:, 25:] = 1.0  # one vertical edge
    w = gradient_weight_map(img)
    assert w.shape == (40, 50) and w.dtype == np.float32
    assert w.mean() == pytest.approx(1.0, rel=1e-5)
    assert np.all(w[:3] == 0) and np.all(w[:, -3:] == 0)
    assert w[20, 24] > 0 and w[20, 10] == 0  # on the edge vs. in the flat part
    np.testing.assert_array_equal(gradient_weight_map(np.full((9, 9, 1), 0.5)), np.ones((9, 9)))
    gray = gradient_weight_map(img[:, :, :1])
    np.testing.assert_allclose(gray, w, rtol=1e-5)  # the luma of a gray RGB image is its gray


@pytest.mark.parametrize("mode", MODES)
def test_official_windows_have_the_crop_size_and_black_outside_a_small_image(mode, rng):
    img = rng.random((20, 30, 3)).astype(np.float32) * 0.5 + 0.5  # no black pixel of its own
    for _ in range(5):
        f = sample_hr_father([FatherSource(img)], rng, crop_size=48, geometry="official",
                             **MODES[mode])
        assert f.shape == (48, 48, 3)
        black = np.all(f == 0, axis=2)
        # at most the image's area (scaled by <= 1) is covered, the rest of the window is black
        assert black.sum() >= 48 * 48 - 20 * 30 - 2 * (20 + 30)
        assert f.max() <= 1 and f.min() >= 0


def test_official_leave_as_is_is_an_exact_window_of_a_large_image(rng):
    img = rng.random((70, 90, 3)).astype(np.float32)
    f = sample_hr_father([FatherSource(img)], rng, crop_size=32, geometry="official",
                         **MODES["leave_as_is"])
    hits = [(i, j) for i in range(39) for j in range(59)
            if np.array_equal(img[i:i + 32, j:j + 32], f)]
    assert len(hits) == 1


def test_official_quarter_turns_move_pixels_without_interpolating(rng):
    img = (rng.random((40, 40, 1)) * 0.5 + 0.5).astype(np.float32)
    turned = 0
    for _ in range(12):
        f = sample_hr_father([FatherSource(img)], rng, crop_size=40, geometry="official",
                             **MODES["no_interp"])
        values = f[f > 0]
        assert np.isin(values, img).all()  # every pixel is one of the image's, or black
        # turning about (W/2, H/2) rather than the centre pixel leaves a black line at an edge
        turned += int((f == 0).any())
    assert turned > 0


def test_unknown_geometry_is_an_error(rng):
    with pytest.raises(ValueError, match="geometry"):
        sample_hr_father([FatherSource(np.zeros((8, 8, 3), np.float32))], rng,
                         geometry="outside")


@pytest.mark.parametrize("shape", [(256, 256), (678, 1020), (1080, 1920), (300, 4000), (1000, 200)])
def test_reconstruction_test_regions_stay_inside_and_bounded(shape):
    from zssr.sampler import test_regions

    max_pixels = 262144
    regions = test_regions(shape, max_pixels)
    covered = sum((r.stop - r.start) * (c.stop - c.start) for r, c in regions)
    if shape[0] * shape[1] <= max_pixels:
        assert regions == [(slice(0, shape[0]), slice(0, shape[1]))]
    else:
        assert covered <= max_pixels and len(regions) >= 1
        assert len(set((r.start, c.start) for r, c in regions)) == len(regions)  # distinct
    for r, c in regions:
        assert 0 <= r.start < r.stop <= shape[0] and 0 <= c.start < c.stop <= shape[1]
    assert test_regions(shape, 0) == [(slice(0, shape[0]), slice(0, shape[1]))]


def test_weight_maps_ride_as_a_last_channel_in_unit_range(natural_image):
    from zssr.sampler import FatherSource, gradient_weight_map, with_weight_maps

    image = natural_image[:20, :24]
    half = np.ascontiguousarray(image[::2, ::2])
    sources, unit = with_weight_maps([FatherSource(image, 1.0), FatherSource(half, 0.5)])
    assert [s.base_scale for s in sources] == [1.0, 0.5]
    assert [s.image.shape for s in sources] == [(20, 24, 4), (10, 12, 4)]
    np.testing.assert_array_equal(sources[0].image[:, :, :3], image)
    maps = [gradient_weight_map(image), gradient_weight_map(half)]
    assert unit == max(float(m.max()) for m in maps)
    assert max(float(s.image[:, :, 3].max()) for s in sources) == pytest.approx(1.0)
    np.testing.assert_allclose(sources[1].image[:, :, 3] * unit, maps[1], rtol=1e-6)
