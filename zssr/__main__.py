"""``python -m zssr``: the ``zssr`` command (:mod:`zssr.cli`)."""

from .cli import main_entry

main_entry()
