"""``python -m zssr.train COMMAND ...``: see :mod:`zssr.train.cli`."""

import sys

from .cli import main

sys.exit(main())
