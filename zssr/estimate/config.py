"""KernelGAN's hyper-parameters, importable without Keras (a process that only hands images to
workers reads them, the workers estimate)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KernelGANConfig"]


@dataclass(frozen=True)
class KernelGANConfig:
    """KernelGAN's hyper-parameters.

    The defaults are the paper's, except ``sharpen``, ``ensemble`` and ``max_iters`` (ours; the
    reasons are in ``docs/kernels.md``).

    Parameters
    ----------
    max_iters : int
        Training iterations of each GAN.
    g_crop : int
        Side of the generator's input crop (the image must be at least this large).
    g_structure : tuple of int
        Kernel sizes of the generator's linear convolutions; their composition is the
        estimated kernel (``sum(k - 1) + 1`` pixels on a side).
    g_channels, d_channels : int
        Channels of the generator's hidden layers and of the discriminator.
    d_layers, d_kernel : int
        Layers of the discriminator and the size of its first convolution (its receptive field).
    learning_rate, beta1 : float
        Adam's rate and first-moment decay for both networks.
    lr_decay_every : int
        The rate is divided by 10 every this many iterations.
    lambda_sum2one, lambda_bicubic, lambda_boundaries : float
        Weights of the priors active from the start: the kernel sums to 1, the generator
        downscales like bicubic, the kernel is small near its borders.
    lambda_centralized_end, lambda_sparse_end : float
        Weights of the centring and sparsity priors once the bicubic prior fades out.
    bicubic_similar_below : float
        Mean squared difference from bicubic's downscaling under which the generator counts as
        mimicking bicubic (three iterations in a row start the fade-out).
    lambda_update_every : int
        Iterations between steps of the fade-out.
    lambda_bicubic_decay, lambda_bicubic_min : float
        Each step of the fade-out divides the bicubic weight by ``lambda_bicubic_decay``, down to
        ``lambda_bicubic_min``.
    n_filtering : int
        Post-processing keeps about this many of the largest taps (:func:`post_process_kernel`).
    sharpen : float
        The post-processed kernel is raised to this power and renormalised, which divides a
        Gaussian's standard deviations by ``sqrt(sharpen)``; 1 gives the paper's kernel.
    ensemble : int
        Number of GANs of different seeds whose post-processed kernels are averaged.
    seed : int
        Seeds the weights, crops and noise of member 0; member ``j`` uses ``seed + 10007 * j``.
    """

    max_iters: int = 1500
    g_crop: int = 64
    g_structure: tuple[int, ...] = (7, 5, 3, 1, 1, 1)
    g_channels: int = 64
    d_channels: int = 64
    d_layers: int = 7
    d_kernel: int = 7
    learning_rate: float = 2e-4
    beta1: float = 0.5
    lr_decay_every: int = 750
    lambda_sum2one: float = 0.5
    lambda_bicubic: float = 5.0
    lambda_boundaries: float = 0.5
    lambda_centralized_end: float = 1.0
    lambda_sparse_end: float = 5.0
    bicubic_similar_below: float = 0.4
    lambda_update_every: int = 200
    lambda_bicubic_decay: float = 100.0
    lambda_bicubic_min: float = 5e-6
    n_filtering: int = 40
    sharpen: float = 1.5
    ensemble: int = 2
    seed: int = 0
