"""``python -m zssr``: the command line of ``run_zssr.py`` (:mod:`zssr.cli`)."""

import sys

from .cli import main

sys.exit(main())
