"""The benchmark's methods, in one registry: each method's name, how it runs one sample, which
ZSSR preset it runs (if any) and whether it needs the dataset's ground-truth kernel.

The preset a method runs and the preset its table reports are one value, :meth:`Method.preset`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import baselines as baselines_registry
from ..config import preset as make_preset
from ..metrics import psnr
from ..resize import imresize
from .datasets import Sample

__all__ = ["Method", "REGISTRY", "METHODS", "BASELINES", "ENSEMBLE", "register", "get",
           "preset_for", "resynthesis_psnr", "method_key"]

#: A run's output, the ZSSR iterations (``None`` for other methods) and extra table columns.
Outcome = tuple[np.ndarray, "int | None", dict]


@dataclass(frozen=True)
class Method:
    """One benchmark method.

    Parameters
    ----------
    name : str
        The name ``--method`` takes.
    run : callable
        ``run(sample, *, preset, overrides, model) -> (output, iterations, extra)``; ``preset``
        is :meth:`preset`'s answer, ``model`` the loaded baseline network (else ``None``).
    default_preset : str or None
        The ZSSR preset run when none is named; ``None`` for a method that is not ZSSR.
    needs_kernel : bool
        Whether it needs the dataset's ground-truth kernel.
    network : str or None
        The :mod:`zssr.baselines` network a baseline method loads.
    """

    name: str
    run: Callable[..., Outcome]
    default_preset: str | None = None
    needs_kernel: bool = False
    network: str | None = None

    @property
    def is_zssr(self) -> bool:
        """Whether the method runs ZSSR (and so a preset)."""
        return self.default_preset is not None

    def preset(self, preset_name: str | None) -> str | None:
        """The preset this method runs (and reports) when ``preset_name`` is asked for."""
        if not self.is_zssr:
            return None
        return preset_name or self.default_preset


REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add ``method`` to :data:`REGISTRY` (replacing one of the same name)."""
    REGISTRY[method.name] = method
    return method


def get(name: str) -> Method:
    """The registered method ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the registered ones.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(REGISTRY)}") from None


def preset_for(method: str, preset_name: str | None) -> str | None:
    """The preset the method named ``method`` runs for ``preset_name`` (``None``: not ZSSR)."""
    return get(method).preset(preset_name)


def resynthesis_psnr(hr: np.ndarray, lr: np.ndarray, kernel: np.ndarray, scale: int) -> float:
    """PSNR-Y of the LR image against the ground truth downscaled with ``kernel``: how well a
    kernel explains the observed LR image (higher is better)."""
    from ..resize import downscale_with_kernel

    synth = np.clip(downscale_with_kernel(hr, kernel, 1.0 / scale, output_shape=lr.shape[:2]),
                    0, 1)
    return psnr(synth, lr, shave=scale)


def _zssr(sample: Sample, kernel: np.ndarray | None, preset: str, overrides: dict | None,
          extra: dict) -> Outcome:
    from .. import ZSSR

    result = ZSSR(make_preset(preset, **(overrides or {}))).run(sample.lr, sample.scale, kernel)
    extra["preset"] = preset
    retried = [s.retried for s in result.steps if s.retried]
    if retried:  # recorded in the results, so a table shows which runs needed it
        extra["retried"] = retried
    return result.image, result.iterations, extra


def _run_bicubic(sample: Sample, **_: Any) -> Outcome:
    return np.clip(imresize(sample.lr, sample.scale), 0, 1), None, {}


def _run_zssr(sample: Sample, *, preset: str, overrides: dict | None, **_: Any) -> Outcome:
    return _zssr(sample, None, preset, overrides, {})


def _run_zssr_gt(sample: Sample, *, preset: str, overrides: dict | None, **_: Any) -> Outcome:
    if sample.kernel is None:
        raise ValueError(f"{sample.name}: no ground-truth kernel in this dataset")
    return _zssr(sample, sample.kernel, preset, overrides, {})


def _run_zssr_estimated(sample: Sample, *, preset: str, overrides: dict | None,
                        **_: Any) -> Outcome:
    from .. import estimate
    from ..kernels import bicubic_kernel, kernel_error

    t_est = time.perf_counter()
    seed = (overrides or {}).get("seed", 0)
    kernel = estimate.estimate_kernel(sample.lr, sample.scale,
                                      config=estimate.KernelGANConfig(seed=seed))
    extra: dict = {"estimate_seconds": time.perf_counter() - t_est}
    if sample.kernel is not None:
        extra["kernel_error"] = kernel_error(kernel, sample.kernel)
        extra["kernel_error_bicubic"] = kernel_error(bicubic_kernel(sample.scale), sample.kernel)
        extra["resynthesis_psnr"] = resynthesis_psnr(sample.hr, sample.lr, kernel, sample.scale)
        extra["resynthesis_psnr_gt_kernel"] = resynthesis_psnr(
            sample.hr, sample.lr, sample.kernel, sample.scale)
    return _zssr(sample, kernel, preset, overrides, extra)


def _run_baseline(ensemble: bool) -> Callable[..., Outcome]:
    def run(sample: Sample, *, model: Any, **_: Any) -> Outcome:
        return baselines_registry.upscale(model, sample.lr, self_ensemble=ensemble), None, {}
    return run


#: A baseline's name plus this suffix: the same network with the geometric self-ensemble.
ENSEMBLE = "-ensemble"

# The benchmark names its presets itself, not through zssr.config.default_preset: the command
# line's default may change, and the committed results must keep meaning what they meant.
register(Method("bicubic", _run_bicubic))
register(Method("zssr", _run_zssr, default_preset="ideal"))
register(Method("zssr-gt", _run_zssr_gt, default_preset="kernel", needs_kernel=True))
register(Method("zssr-estimated", _run_zssr_estimated, default_preset="kernel"))
for _name in baselines_registry.NAMES:
    register(Method(_name, _run_baseline(False), network=_name))
for _name in baselines_registry.NAMES:
    register(Method(_name + ENSEMBLE, _run_baseline(True), network=_name))

METHODS = tuple(REGISTRY)
BASELINES = tuple(m.name for m in REGISTRY.values() if m.network is not None)


def method_key(method: str, scale: int, preset_name: str | None, overrides: dict | None,
               baseline_weights: str | None = None) -> str:
    """Folder name for a method's saved outputs: the method plus a hash of what determines its
    result (the full ZSSR config, or the baseline weights' sha256)."""
    import hashlib
    import json

    m = get(method)
    what: dict = {"method": method}
    if m.is_zssr:
        what["config"] = make_preset(m.preset(preset_name), **(overrides or {})).to_dict()
    elif m.network is not None:
        path = baseline_weights or baselines_registry.weights_path(m.network, scale)
        what["weights"] = (baselines_registry.sha256(path) if Path(path).exists()
                           else str(path))
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:10]
    return f"{method}-{digest}"
