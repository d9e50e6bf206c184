"""``python -m zssr.benchmark``: the benchmark's command line (:mod:`zssr.benchmark.cli`)."""

import sys

from .cli import main

sys.exit(main())
