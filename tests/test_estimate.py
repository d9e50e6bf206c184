import numpy as np
import pytest

from zssr.estimate import KernelGANConfig, estimate_kernel
from zssr.estimate.kernelgan import DeepLinearGenerator, post_process_kernel
from zssr.kernels import bicubic_kernel, kernel_error, principal_angle
from zssr.resize import downscale_with_kernel


def _anisotropic_gaussian(size=13, sigmas=(3.2, 0.9), angle_deg=30.0):
    t = np.radians(angle_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    cov = rot @ np.diag(np.square(sigmas)) @ rot.T
    c = size // 2 + 0.5
    y, x = np.indices((size, size), dtype=float)
    d = np.stack([y - c, x - c], -1)
    k = np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d))
    return k / k.sum()


def test_generator_kernel_is_the_operation_it_applies():
    import keras

    gen = DeepLinearGenerator(seed=3)
    x = np.random.default_rng(0).random((1, 40, 40, 3)).astype(np.float32)
    y = keras.ops.convert_to_numpy(gen(x))
    k = keras.ops.convert_to_numpy(gen.kernel())
    assert k.shape == (13, 13)
    # correlate channel 1 with k and keep every second pixel of the valid region
    from scipy.signal import correlate2d

    ref = correlate2d(x[0, :, :, 1], k, mode="valid")[::2, ::2]
    np.testing.assert_allclose(y[0, :, :, 1], ref, rtol=1e-4, atol=1e-7)


def test_post_processing():
    k = np.full((13, 13), 1e-4)
    k[5:8, 5:8] = 1.0
    out = post_process_kernel(k, n=8)  # threshold: 0.75 x the 9th largest value (1.0)
    assert out.sum() == pytest.approx(1.0)
    assert np.count_nonzero(out) == 9
    with pytest.raises(ValueError, match="estimat"):
        estimate_kernel(np.zeros((20, 20, 3), np.float32), 2)
    with pytest.raises(ValueError, match="scale 2 or 4"):
        estimate_kernel(np.zeros((80, 80, 3), np.float32), 3)


def test_short_estimation_recovers_orientation():
    from skimage import data

    truth = _anisotropic_gaussian()
    hr = data.astronaut()[:256, 128:384].astype(np.float64) / 255
    lr = np.clip(downscale_with_kernel(hr, truth, 0.5), 0, 1).astype(np.float32)
    k = estimate_kernel(lr, 2, config=KernelGANConfig(max_iters=400, seed=1))
    angle_true, _ = principal_angle(truth)
    angle_est, elongation = principal_angle(k)
    diff = abs((angle_est - angle_true + 90) % 180 - 90)
    assert diff <= 20, (angle_est, angle_true)
    assert elongation > 1.2
    assert kernel_error(k, truth) < kernel_error(bicubic_kernel(2), truth)


def test_discriminator_is_reproducible_from_its_seed():
    from zssr.estimate.kernelgan import build_discriminator

    a = build_discriminator(3, width=8, layers=3, seed=4)
    b = build_discriminator(3, width=8, layers=3, seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):  # includes the power-iteration vectors
        np.testing.assert_array_equal(wa, wb)


def test_ensemble_members_train_independently():
    from zssr.estimate.kernelgan import combine_kernels, train_kernelgan

    rng = np.random.default_rng(0)
    lr = np.clip(downscale_with_kernel(rng.random((160, 160, 3)), _anisotropic_gaussian(), 0.5),
                 0, 1).astype(np.float32)
    alone = train_kernelgan(lr, config=KernelGANConfig(max_iters=25, seed=4, ensemble=1))
    pair = train_kernelgan(lr, config=KernelGANConfig(max_iters=25, seed=4, ensemble=2))
    assert len(alone) == 1 and len(pair) == 2
    # member 0 of an ensemble is the single GAN of the same seed: the other member's losses and
    # the shared optimiser do not reach it
    np.testing.assert_allclose(pair[0], alone[0], rtol=1e-5, atol=1e-7)
    assert kernel_error(pair[0], pair[1]) > 1e-4  # another seed: another kernel
    combined = combine_kernels(pair)
    assert combined.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(
        combined, (post_process_kernel(pair[0]) + post_process_kernel(pair[1])) / 2)
    with pytest.raises(ValueError, match="ensemble must be >= 1"):
        train_kernelgan(lr, config=KernelGANConfig(ensemble=0))
