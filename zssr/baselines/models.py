"""Supervised SR networks in Keras 3: EDSR-baseline and a registered pixel-shuffle layer.

Only ``keras`` and ``keras.ops`` are used (no ``Lambda``, no backend-specific calls), so the models
save, load and train with the TensorFlow, JAX or PyTorch backend.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["PixelShuffle", "MeanShift", "edsr_baseline", "receptive_radius", "EDSR_SCALES"]

EDSR_SCALES = (2, 3, 4)

# The RGB mean of DIV2K that EDSR subtracts at the input and adds back at the output (in [0, 1]).
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


@keras.saving.register_keras_serializable(package="zssr")
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel upsampling (Shi et al., CVPR 2016): (N, H, W, C*r*r) -> (N, H*r, W*r, C).

    Channel ``(i*r + j)*C + c`` becomes the pixel at offset ``(i, j)`` of output channel ``c``
    (the channels-last layout of TensorFlow's ``depth_to_space``; PyTorch's ``pixel_shuffle``
    orders the channels ``c*r*r + i*r + j`` instead, so its weights need a permutation).
    """

    def __init__(self, factor: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(factor) != factor or factor < 1:
            raise ValueError(f"PixelShuffle factor must be a positive integer, got {factor!r}")
        self.factor = int(factor)

    def call(self, x):
        r = self.factor
        shape = ops.shape(x)
        n, h, w, c = shape[0], shape[1], shape[2], shape[3]
        out_c = c // (r * r)
        x = ops.reshape(x, (n, h, w, r, r, out_c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))  # n, h, i, w, j, c
        return ops.reshape(x, (n, h * r, w * r, out_c))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        r = self.factor
        return (n, None if h is None else h * r, None if w is None else w * r,
                None if c is None else c // (r * r))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="zssr")
class MeanShift(keras.layers.Layer):
    """Add ``sign`` times a fixed per-channel mean (no trainable weights)."""

    def __init__(self, mean=DIV2K_RGB_MEAN, sign: float = -1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mean = tuple(float(m) for m in mean)
        self.sign = float(sign)

    def call(self, x):
        return x + self.sign * ops.convert_to_tensor(self.mean, dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": list(self.mean), "sign": self.sign}


def _upsampler(x, scale: int, width: int, name: str):
    """EDSR's upsampler: x2 and x3 one conv + shuffle, x4 two x2 stages."""
    stages = [2, 2] if scale == 4 else [scale]
    for n, r in enumerate(stages):
        x = keras.layers.Conv2D(width * r * r, 3, padding="same", name=f"{name}_conv{n}")(x)
        x = PixelShuffle(r, name=f"{name}_shuffle{n}")(x)
    return x


def edsr_baseline(scale: int, *, n_blocks: int = 16, width: int = 64, res_scale: float = 1.0,
                  channels: int = 3, seed: int = 0) -> keras.Model:
    """EDSR-baseline: ``n_blocks`` residual blocks (conv-ReLU-conv, no batch norm) of ``width``
    channels, a global skip, and a sub-pixel upsampler.

    Parameters
    ----------
    scale : int
        2, 3 or 4.
    n_blocks, width : int
        16 and 64 give the EDSR authors' baseline (1.37M parameters at x2, 1.55M x3, 1.52M x4).
    res_scale : float
        Residual scaling inside the blocks (1 for the baseline; EDSR's large model uses 0.1).
    channels : int
        Image channels (3: RGB in [0, 1]; the DIV2K mean is subtracted inside).
    seed : int
        Seeds the initialisers, so two builds with one seed are identical.

    Returns
    -------
    keras.Model
        (N, H, W, channels) in [0, 1] -> (N, scale*H, scale*W, channels), not clipped.

    References
    ----------
    B. Lim, S. Son, H. Kim, S. Nah, K. M. Lee, "Enhanced Deep Residual Networks for Single Image
    Super-Resolution", CVPRW 2017.
    """
    if scale not in EDSR_SCALES:
        raise ValueError(f"EDSR-baseline supports scales {EDSR_SCALES}, got {scale!r}")
    keras.utils.set_random_seed(seed)
    mean = DIV2K_RGB_MEAN if channels == 3 else (0.5,) * channels
    inputs = keras.Input(shape=(None, None, channels), name="lr")
    x = MeanShift(mean, -1.0, name="sub_mean")(inputs)
    head = keras.layers.Conv2D(width, 3, padding="same", name="head")(x)
    x = head
    for b in range(n_blocks):
        y = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                name=f"block{b}_conv0")(x)
        y = keras.layers.Conv2D(width, 3, padding="same", name=f"block{b}_conv1")(y)
        if res_scale != 1.0:
            y = keras.layers.Rescaling(res_scale, name=f"block{b}_scale")(y)
        x = keras.layers.Add(name=f"block{b}_add")([x, y])
    x = keras.layers.Conv2D(width, 3, padding="same", name="body_end")(x)
    x = keras.layers.Add(name="global_skip")([head, x])
    x = _upsampler(x, scale, width, "up")
    x = keras.layers.Conv2D(channels, 3, padding="same", name="tail")(x)
    # float32 output whatever the compute policy (mixed precision keeps the loss in float32).
    outputs = MeanShift(mean, 1.0, name="add_mean", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"edsr_baseline_x{scale}")


def receptive_radius(n_blocks: int = 16) -> int:
    """LR pixels on each side that one EDSR-baseline output pixel depends on: the head, two convs
    per block, the body end and the upsampler conv(s) in LR space, the tail in HR space (at most
    one LR pixel), plus one for the sub-pixel offset."""
    return 1 + 2 * n_blocks + 1 + 2 + 1 + 1
