"""``python -m zssr.pretrain ...``: the same as ``python -m zssr.train warm-start ...``.

Warm-start pretraining of the ZSSR network lives in :mod:`zssr.train.warm_start`.
"""

import sys

from zssr.train.cli import main

if __name__ == "__main__":
    sys.exit(main(command="warm-start", prog="python -m zssr.pretrain"))
