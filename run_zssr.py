#!/usr/bin/env python3
"""Zero-shot super-resolution of an image: ``python run_zssr.py img.png --scale 2``."""

import sys

from zssr.cli import main

if __name__ == "__main__":
    sys.exit(main())
