"""``python -m zssr.baselines.score ...``: the same as ``python -m zssr.train score ...``.

Scoring lives in :mod:`zssr.train.score`.
"""

import sys

from zssr.train.cli import main

if __name__ == "__main__":
    sys.exit(main(command="score", prog="python -m zssr.baselines.score"))
