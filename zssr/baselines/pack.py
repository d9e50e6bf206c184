"""Pack a folder of training images into a smaller, lossless copy (WebP) that can travel.

    python -m zssr.baselines.pack --hr-dir ../shared/data/train --out .devpack/train \\
        --max-mib 36

A lent GPU machine receives at most 64 MiB of files with each command, the repository
included; T91 + BSD200 take 58.7 MiB as PNG and 39.3 MiB as lossless WebP. Every image is
re-encoded as lossless WebP and decoded again to check that its pixels are identical; where they
are not (16-bit or gray images, which WebP does not hold), the original file is copied instead.
The folder structure and file stems are kept, so ``zssr.baselines.train --hr-dir OUT`` sees the
images in the same order and holds out the same last ``--val-count`` images as with the
original folder. With ``--max-mib``, evenly spaced training images (never the held-out ones)
are left out until the copy fits; ``pack.json`` in the output lists every file, its source's
sha256 and what was left out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from ..io import atomic_write, list_images, sha256_file, write_json
from ..training import split_validation

#: cv2's WebP quality above 100 selects lossless compression.
WEBP_LOSSLESS = [cv2.IMWRITE_WEBP_QUALITY, 101]


def encode(path: Path) -> tuple[bytes, str]:
    """The smallest exact encoding of one image file: (bytes, suffix).

    Lossless WebP when it decodes to the very pixels of ``path``, else the file itself.
    """
    original = path.read_bytes()
    pixels = cv2.imdecode(np.frombuffer(original, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ValueError(f"{path}: cannot be decoded as an image")
    if pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        ok, buf = cv2.imencode(".webp", pixels, WEBP_LOSSLESS)
        if ok:
            back = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            if back is not None and back.shape == pixels.shape and np.array_equal(back, pixels):
                if len(buf) < len(original):
                    return buf.tobytes(), ".webp"
    return original, path.suffix.lower()


def thin(n_train: int, sizes: list[int], fixed: int, max_bytes: int) -> list[int]:
    """Indices (into the first ``n_train`` of ``sizes``) to leave out, evenly spaced, fewest
    first, so that the rest plus ``fixed`` bytes fit in ``max_bytes``."""
    train = sizes[:n_train]
    for k in range(n_train):
        drop = sorted({int(i) for i in np.linspace(0, n_train - 1, k)}) if k else []
        if sum(train) - sum(train[i] for i in drop) + fixed <= max_bytes:
            return drop
    raise ValueError(f"even without training images the held-out ones take {fixed:,} bytes, "
                     f"more than --max-mib allows ({max_bytes:,})")


def pack(source: Path, out: Path, *, val_count: int = 10, max_mib: float | None = None,
         log=print) -> dict:
    """Write the packed copy of ``source`` to ``out`` (which must not hold images yet) and
    return the record written to ``out/pack.json``."""
    files = list_images([source])
    train, _ = split_validation(files, None, val_count)  # the trainer's own split and errors
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not an empty folder; remove it or choose "
                         "another --out")
    encoded = []
    for i, path in enumerate(files, 1):
        encoded.append(encode(path))
        if i % 50 == 0 or i == len(files):
            log(f"encoded {i}/{len(files)}")
    sizes = [len(data) for data, _ in encoded]
    n_train = len(train)
    drop: list[int] = []
    if max_mib is not None:
        drop = thin(n_train, sizes, sum(sizes[n_train:]), int(max_mib * 2**20))
    dropped = set(drop)
    entries = []
    for i, (path, (data, suffix)) in enumerate(zip(files, encoded)):
        if i in dropped:
            continue
        target = out / path.relative_to(source).with_suffix(suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda tmp, data=data: Path(tmp).write_bytes(data), False)
        entries.append({"file": str(target.relative_to(out)),
                        "source": str(path.relative_to(source)),
                        "source_sha256": sha256_file(path), "bytes": len(data),
                        "held_out": i >= n_train})
    record = {
        "source": str(source), "images": len(entries), "source_images": len(files),
        "held_out_last": val_count, "bytes": sum(e["bytes"] for e in entries),
        "source_bytes": sum(p.stat().st_size for p in files),
        "left_out": [str(files[i].relative_to(source)) for i in drop],
        "encoding": "lossless WebP, pixels checked identical; other files copied as they were",
        "files": entries,
    }
    write_json(out / "pack.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m zssr.baselines.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hr-dir", required=True, help="folder of training images (recursive)")
    p.add_argument("--out", required=True, help="new folder for the packed copy")
    p.add_argument("--val-count", type=int, default=10,
                   help="the last N images, held out by the trainer, are always kept "
                        "(default 10, as zssr.baselines.train)")
    p.add_argument("--max-mib", type=float, default=None,
                   help="leave out evenly spaced training images until the copy fits")
    args = p.parse_args(argv)
    try:
        record = pack(Path(args.hr_dir), Path(args.out), val_count=args.val_count,
                      max_mib=args.max_mib)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {record['images']} of {record['source_images']} images to {args.out}: "
          f"{record['bytes'] / 2**20:.1f} MiB (from {record['source_bytes'] / 2**20:.1f} MiB); "
          f"left out {len(record['left_out'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
