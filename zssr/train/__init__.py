"""Training: one runner (:func:`run`) over a :class:`TrainConfig` and a task.

>>> from zssr import train
>>> task = train.EDSR(scale=2)
>>> config = task.config(hr_dirs=["data/train"], checkpoint_dir="runs/edsr_x2",
...                      output="edsr-baseline_x2.weights.h5")
>>> state = train.run(task, config)                                  # doctest: +SKIP

Tasks: :class:`WarmStart` (warm-start weights of the ZSSR network, :mod:`.warm_start`) and
:class:`EDSR` (the EDSR-baseline, :mod:`.edsr`). The runner keeps checkpoints, an optional weight
average, a time budget and the best weights by validation score in the run folder, and resumes
from them (:mod:`.runner`, :mod:`.checkpoint`). :func:`ship_warm` and :func:`ship_edsr` put a
run's best weights into the package with their manifest entry; :func:`score` rates EDSR weights
files on a run's held-out images. The command line is ``python -m zssr.train`` (:mod:`.cli`).
"""

from .config import Task, TrainConfig, TrainConfigError
from .edsr import EDSR
from .runner import fit, run
from .score import score
from .ship import ship_edsr, ship_warm
from .warm_start import WarmStart

__all__ = ["Task", "TrainConfig", "TrainConfigError", "run", "fit", "WarmStart", "EDSR",
           "ship_warm", "ship_edsr", "score"]
