"""``python -m zssr.baselines.ship ...``: the same as ``python -m zssr.train ship-edsr ...``.

Shipping lives in :mod:`zssr.train.ship`.
"""

import sys

from zssr.train.cli import main

if __name__ == "__main__":
    sys.exit(main(command="ship-edsr", prog="python -m zssr.baselines.ship"))
