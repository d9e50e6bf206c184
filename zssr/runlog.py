"""The run log of a batch: ``<output folder>/zssr-run.jsonl``, one JSON line per finished image.

Each line holds ``input``, ``output``, ``sha256`` (of the output image), ``seconds``, ``status``
(``ok`` or ``failed``), ``error``, ``host`` and ``time`` (UTC, ISO 8601). Only the process that
drives the batch appends to it, one whole line per write, synced to disk, so a run killed at any
moment leaves every finished image logged and at worst one cut last line, which reading skips.
With ``--skip-existing`` a later run skips the images logged ``ok`` whose output is still there,
and so resumes where the killed one stopped.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["NAME", "RunLog", "entry"]

#: The run log's file name in the output folder.
NAME = "zssr-run.jsonl"


def entry(*, input: str | Path, output: str | Path | None, sha256: str | None, seconds: float,
          status: str, error: str | None = None, host: str | None = None) -> dict[str, Any]:
    """One line of the run log (inputs and outputs as absolute paths)."""
    return {"input": str(Path(input).resolve()),
            "output": str(Path(output).resolve()) if output else None,
            "sha256": sha256, "seconds": round(float(seconds), 3), "status": status,
            "error": error, "host": host or socket.gethostname(),
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}


class RunLog:
    """Append to and read a run log.

    Parameters
    ----------
    path : str or Path
        The log file (created on the first :meth:`append`, with normal permissions).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]]:
        """The latest line of each input (keyed by its absolute path); a cut or foreign line is
        skipped."""
        latest: dict[str, dict[str, Any]] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return latest
        for line in text.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("input"), str):
                latest[item["input"]] = item
        return latest

    def completed(self) -> dict[str, dict[str, Any]]:
        """The inputs logged ``ok`` whose output file still exists, with their lines (read once
        per call: call it once per run)."""
        return {key: item for key, item in self.read().items()
                if item.get("status") == "ok" and item.get("output")
                and Path(item["output"]).is_file()}

    def append(self, item: dict[str, Any]) -> None:
        """Append one line (a whole line per write, flushed and synced)."""
        line = json.dumps(item, sort_keys=True, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and not self._ends_with_newline(size):
                line = "\n" + line  # the previous run was cut mid-line
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ends_with_newline(self, size: int) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(size - 1)
            return fh.read(1) == b"\n"
