#!/usr/bin/env python3
"""Alias of the ``zssr`` command in a checkout: ``python run_zssr.py img.png --scale 2``."""

from zssr.cli import main_entry

if __name__ == "__main__":
    main_entry()
