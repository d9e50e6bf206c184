"""``python -m zssr.baselines.train ...``: the same as ``python -m zssr.train edsr ...``.

EDSR-baseline training lives in :mod:`zssr.train.edsr`.
"""

import sys

from zssr.train.cli import main

if __name__ == "__main__":
    sys.exit(main(command="edsr", prog="python -m zssr.baselines.train"))
