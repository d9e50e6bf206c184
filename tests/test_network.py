import numpy as np
import pytest

from zssr.network import build_network, compile_network, forward


def test_parameter_count_and_shape():
    model = build_network(3, depth=8, width=64)
    assert model.count_params() == 3 * 3 * 3 * 64 + 6 * 3 * 3 * 64 * 64 + 3 * 3 * 64 * 3
    out = forward(model, np.zeros((17, 23, 3), np.float32))
    assert out.shape == (17, 23, 3)


def test_near_identity_at_init(natural_image):
    model = build_network(3, init_variance=0.1, seed=3)
    out = forward(model, natural_image)
    assert np.abs(out - natural_image).mean() < 0.01


def test_configurable_depth_width_and_gray():
    model = build_network(1, depth=3, width=8)
    assert len([layer for layer in model.layers if "conv" in layer.name]) == 3
    assert forward(model, np.zeros((9, 9, 1), np.float32)).shape == (9, 9, 1)


def test_weights_change_after_a_step(natural_image):
    model = compile_network(build_network(3, depth=3, width=8, seed=1), 1e-3)
    before = [w.copy() for w in model.get_weights()]
    x = natural_image[None] * 0.9
    model.train_on_batch(x, natural_image[None])
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


def test_seeded_init_is_reproducible():
    a = build_network(3, depth=3, width=8, seed=7).get_weights()
    b = build_network(3, depth=3, width=8, seed=7).get_weights()
    c = build_network(3, depth=3, width=8, seed=8).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_mixed_bfloat16_network_matches_float32_up_to_residual_rounding(rng):
    from zssr.network import build_network, forward

    full = build_network(3, depth=3, width=8, init_variance=2.0, seed=1)
    mixed = build_network(3, depth=3, width=8, init_variance=2.0, seed=1,
                          precision="mixed_bfloat16")
    mixed.set_weights(full.get_weights())
    x = rng.random((16, 20, 3)).astype(np.float32)
    a, b = forward(full, x), forward(mixed, x)
    assert b.dtype == np.float32
    residual = np.abs(a - x).max()
    assert residual > 0.05
    assert 0 < np.abs(a - b).max() <= 0.02 * residual  # bfloat16 keeps ~3 significant digits


def test_auto_precision_follows_the_machine(monkeypatch):
    from zssr import network
    from zssr.config import ZSSRConfig

    assert network.resolve_precision("float32") == "float32"
    assert network.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    monkeypatch.setattr(network, "bfloat16_is_native", lambda: False)
    assert network.resolve_precision("auto") == "float32"
    monkeypatch.setattr(network, "bfloat16_is_native", lambda: True)
    assert network.resolve_precision("auto") == "mixed_bfloat16"
    net = network.build_network(3, depth=2, width=4, precision="auto")
    assert net.get_layer("conv0").compute_dtype == "bfloat16"
    assert ZSSRConfig(precision="auto").precision == "auto"
    with pytest.raises(ValueError, match="precision must be"):
        ZSSRConfig(precision="half")


def test_emulated_bfloat16_is_warned_about(monkeypatch):
    from zssr import network

    monkeypatch.setattr(network, "bfloat16_is_native", lambda: False)
    message = network.precision_warning("mixed_bfloat16")
    assert message.startswith('precision="mixed_bfloat16": ') and "emulated" in message
    assert 'use precision="float32" or auto' in message and "--" not in message
    cli = network.precision_warning("mixed_bfloat16", "--precision {}")
    assert cli.startswith("--precision mixed_bfloat16: ") and "--precision float32 or" in cli
    assert network.precision_warning("float32") is None
    assert network.precision_warning("auto") is None  # auto never picks emulated bfloat16
    monkeypatch.setattr(network, "bfloat16_is_native", lambda: True)
    assert network.precision_warning("mixed_bfloat16") is None


def test_initial_weights_read_as_arrays_and_precision_of(tmp_path):
    from zssr import network

    path = tmp_path / "w.weights.h5"
    source = network.build_network(3, depth=2, width=4, seed=7)
    source.save_weights(path)
    arrays = network.read_initial_weights(str(path), 3, depth=2, width=4)
    for a, b in zip(arrays, source.get_weights()):
        np.testing.assert_array_equal(a, b)
    gray = network.build_network(1, depth=2, width=4, precision="mixed_bfloat16")
    network.load_initial_weights(gray, str(path), depth=2, width=4)
    np.testing.assert_allclose(gray.get_weights()[0], arrays[0].sum(axis=2, keepdims=True))
    assert network.precision_of(gray) == "mixed_bfloat16"
    assert network.precision_of(source) == "float32"
    with pytest.raises(ValueError, match="depth-3, width-4"):
        network.read_initial_weights(str(path), 3, depth=3, width=4)
