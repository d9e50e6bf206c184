"""Shipped weights: where they live, their manifests, and checked lookup by name.

Each folder of shipped ``.weights.h5`` files has a ``manifest.json`` of the form
``{"weights": [{"file": ..., "sha256": ..., ...}, ...]}``. :func:`shipped` finds a file by name
and checks it against its manifest entry; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["WARM_DIR", "BASELINES_DIR", "read_manifest", "write_manifest_entry", "sha256_file",
           "shipped", "WeightsError"]

WARM_DIR = Path(__file__).resolve().parent / "weights"
BASELINES_DIR = Path(__file__).resolve().parent / "baselines" / "weights"


class WeightsError(ValueError):
    """A shipped weights file does not match its manifest (damaged or replaced)."""


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: str | os.PathLike) -> dict[str, dict]:
    """Entries of the manifest at ``path`` keyed by file name (empty if there is none)."""
    path = Path(path)
    if not path.exists():
        return {}
    return {e["file"]: e for e in json.loads(path.read_text())["weights"]}


def write_manifest_entry(path: str | os.PathLike, entry: dict) -> Path:
    """Put ``entry`` into the manifest at ``path`` (replacing the entry for the same ``file``),
    sorted by file name, written atomically."""
    path = Path(path)
    entries = json.loads(path.read_text())["weights"] if path.exists() else []
    entries = [e for e in entries if e["file"] != entry["file"]] + [entry]
    entries.sort(key=lambda e: e["file"])
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps({"weights": entries}, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def shipped(folder: str | os.PathLike, file: str) -> Path:
    """The shipped weights ``folder/file``, checked against ``folder/manifest.json``.

    Raises
    ------
    FileNotFoundError
        If the file or its manifest entry is missing.
    WeightsError
        If the file's sha256 differs from its manifest entry.
    """
    path = Path(folder) / file
    entry = read_manifest(Path(folder) / "manifest.json").get(file)
    if not path.is_file() or entry is None:
        raise FileNotFoundError(f"the shipped weights {path} (or their manifest entry) are "
                                "missing; reinstall zssr")
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise WeightsError(f"{path} has sha256 {actual}, its manifest says {entry['sha256']}: "
                           "the file is corrupt or was replaced; reinstall zssr")
    return path
