"""The image-specific ZSSR network: a small fully convolutional residual net (Keras 3).

``depth`` 3x3 convolutions of ``width`` channels with ReLU between them (none after the last) learn
the residual between a bicubically interpolated LR son and its HR father. Weights start as
N(0, init_variance / fan_in) without biases, so the untrained network is close to the identity on
its input. Only ``keras`` APIs are used, so the model runs with the TensorFlow, JAX or PyTorch
backend.
"""

from __future__ import annotations

import math
from functools import lru_cache

import keras
import numpy as np

__all__ = ["bfloat16_is_native", "build_network", "compile_network", "compute_device", "forward",
           "load_initial_weights", "precision_of", "precision_warning", "read_initial_weights",
           "resolve_precision"]


@lru_cache(maxsize=1)
def _gpus() -> tuple[str, ...]:
    """Names of the GPUs the Keras backend computes on (none on a CPU-only machine)."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return tuple(str(d) for d in jax.devices() if d.platform == "gpu")
        if backend == "tensorflow":
            import tensorflow as tf

            for gpu in tf.config.list_physical_devices("GPU"):
                try:  # take GPU memory as needed, so that several workers can share a GPU
                    tf.config.experimental.set_memory_growth(gpu, True)
                except RuntimeError:  # the GPU is initialised already
                    pass
            return tuple(d.name for d in tf.config.list_logical_devices("GPU"))
        if backend == "torch":
            import torch

            return tuple(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    except Exception:  # a broken GPU runtime means no GPU, not a failed run
        pass
    return ()


def compute_device() -> str:
    """Where the Keras backend computes: ``"CPU"`` or ``"GPU (<names>)"``."""
    gpus = _gpus()
    return f"GPU ({', '.join(gpus)})" if gpus else "CPU"


@lru_cache(maxsize=1)
def bfloat16_is_native() -> bool:
    """Whether this machine runs bfloat16 convolutions natively: a GPU for the Keras backend, or
    a CPU with bfloat16 instructions (without them, oneDNN emulates bfloat16 and is slower)."""
    if _gpus():
        return True
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def precision_warning(precision: str, flag: str = 'precision="{}"') -> str | None:
    """Why an explicit ``"mixed_bfloat16"`` is a poor choice on this machine, or ``None``.

    Without a GPU or a CPU with bfloat16 instructions, oneDNN emulates bfloat16, which is many
    times slower than float32; ``"auto"`` never picks emulated bfloat16.

    Parameters
    ----------
    precision : str
        The precision asked for.
    flag : str
        How the message spells the option, ``{}`` standing for its value: by default the API's
        ``precision="{}"``; a command line passes its own spelling, e.g. ``"--precision {}"``.
    """
    if precision != "mixed_bfloat16" or bfloat16_is_native():
        return None
    return (f"{flag.format('mixed_bfloat16')}: this machine has no GPU and its CPU has no "
            "bfloat16 instructions, so bfloat16 is emulated and runs many times slower than "
            f"float32; use {flag.format('float32')} or auto")


def resolve_precision(precision: str) -> str:
    """``"auto"`` -> ``"mixed_bfloat16"`` where bfloat16 is native (see above), else
    ``"float32"``; other values are returned unchanged."""
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if bfloat16_is_native() else "float32"


def build_network(
    channels: int = 3,
    *,
    depth: int = 8,
    width: int = 64,
    init_variance: float = 0.1,
    seed: int = 0,
    precision: str = "float32",
) -> keras.Model:
    """Build the residual FCN.

    Parameters
    ----------
    channels : int
        Image channels (3 for RGB, 1 for gray).
    depth, width : int
        Number of 3x3 convolutions and their channel count.
    init_variance : float
        Weight variance times fan-in at initialisation.
    seed : int
        Seeds each layer's initialiser.
    precision : {"float32", "mixed_bfloat16", "auto"}
        Compute type of the convolutions. With ``mixed_bfloat16`` they run in bfloat16 (weights
        stay float32; faster where bfloat16 is native), while the residual is added to the input
        in float32, so only the small residual carries bfloat16 rounding.

    Returns
    -------
    keras.Model
        Maps an interpolated image (N, H, W, C) to its super-resolved version, same shape.

    References
    ----------
    A. Shocher, N. Cohen, M. Irani, "Zero-Shot Super-Resolution using Deep Internal Learning",
    CVPR 2018.
    """
    inputs = keras.Input(shape=(None, None, channels), name="interpolated_lr")
    x = inputs
    fan_in_channels = channels
    for i in range(depth):
        last = i == depth - 1
        std = math.sqrt(init_variance / (3 * 3 * fan_in_channels))
        x = keras.layers.Conv2D(
            channels if last else width,
            3,
            padding="same",
            use_bias=False,
            activation=None if last else "relu",
            kernel_initializer=keras.initializers.RandomNormal(stddev=std, seed=seed + i),
            name=f"conv{i}",
            dtype=resolve_precision(precision),
        )(x)
        fan_in_channels = width
    outputs = keras.layers.Add(name="residual", dtype="float32")([inputs, x])
    return keras.Model(inputs, outputs, name="zssr_net")


def compile_network(model: keras.Model, learning_rate: float) -> keras.Model:
    """Attach Adam and the L1 loss (mean absolute error), as in the paper."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="mean_absolute_error",
    )
    return model


def forward(model: keras.Model, interpolated: np.ndarray) -> np.ndarray:
    """Run the network on one HxWxC image; returns float32 HxWxC (not clipped)."""
    batch = np.ascontiguousarray(interpolated, dtype=np.float32)[None]
    return keras.ops.convert_to_numpy(model(batch, training=False))[0]


def precision_of(model: keras.Model) -> str:
    """Compute type of a network from :func:`build_network`: float32 or mixed_bfloat16."""
    return model.get_layer("conv0").dtype_policy.name


def read_initial_weights(path: str, channels: int, *, depth: int, width: int
                         ) -> list[np.ndarray]:
    """The weights in a ``.weights.h5`` file of a network of this depth and width, built for
    RGB or for ``channels``, as arrays for a ``channels``-channel network (``set_weights``).

    RGB weights for a one-channel (gray) network are folded exactly: a gray image copied to
    three channels meets the first layer's kernels summed over the input channels, and the gray
    output is the mean of the three output channels.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file does not hold a network of this depth and width.
    """
    import os
    import warnings

    if not os.path.exists(path):
        raise FileNotFoundError(f"initial weights not found: {path}")
    errors = []
    for file_channels in dict.fromkeys((channels, 3)):
        reference = build_network(file_channels, depth=depth, width=width)
        try:
            with warnings.catch_warnings():  # Keras warns before it raises on a mismatch
                warnings.simplefilter("ignore", UserWarning)
                reference.load_weights(path)
        except Exception as e:  # noqa: BLE001 (Keras raises several types for a mismatch)
            errors.append(f"{file_channels} channels: {e}")
            continue
        weights = reference.get_weights()
        if file_channels != channels:
            weights[0] = weights[0].sum(axis=2, keepdims=True)
            weights[-1] = weights[-1].mean(axis=3, keepdims=True)
        return weights
    raise ValueError(
        f"{path} does not hold weights of a depth-{depth}, width-{width} ZSSR network "
        f"({'; '.join(str(e).splitlines()[0] for e in errors)}); set depth and width to those "
        "the file was trained with"
    )


def load_initial_weights(model: keras.Model, path: str, *, depth: int, width: int) -> None:
    """Set ``model``'s weights from a ``.weights.h5`` file, see :func:`read_initial_weights`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file does not hold a network of this depth and width.
    """
    model.set_weights(read_initial_weights(path, model.input_shape[-1], depth=depth,
                                           width=width))
