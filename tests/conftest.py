import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def natural_image():
    """A small natural RGB image (scikit-image's public-domain astronaut), float32 in [0, 1]."""
    from skimage import data

    img = data.astronaut()[100:164, 180:260].astype(np.float32) / 255.0
    return img


def shared_data_or_skip(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared benchmark data not present at {path} (only on the project machines)")
    return path


@pytest.fixture
def png_header_only():
    """A writer of PNGs whose IHDR claims ``width`` x ``height`` (valid CRCs) over one tiny IDAT:
    ``png_header_only(path, width, height) -> path``."""
    def write(path, width, height):
        def chunk(kind, data):
            return (struct.pack(">I", len(data)) + kind + data
                    + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                         + chunk(b"IDAT", zlib.compress(b"\x00" * 7)) + chunk(b"IEND", b""))
        return path
    return write


@pytest.fixture
def hr_folder(natural_image):
    """A writer of training folders: ``hr_folder(path, n=4, step=4) -> path`` holds ``n`` 8-bit
    PNG crops of :func:`natural_image`, each ``step`` pixels right of the last."""
    def write(path, n=4, step=4):
        import imageio.v3 as iio

        path.mkdir(parents=True)
        for i in range(n):
            crop = natural_image[:, i * step:i * step + 60]
            iio.imwrite(path / f"img{i}.png", (crop * 255).astype(np.uint8))
        return path
    return write


#: The flags of the parallel-run tests: a short recipe, one thread per image (the bits of an
#: output depend on its thread count, so the serial reference uses the workers' one thread).
PARALLEL_FLAGS = ["--scale", "2", "--max-iters", "60", "--seed", "0", "-q"]


def run_zssr(*args, timeout=600, **kwargs):
    """``python -m zssr ARGS`` in a new process (Keras starts fresh there)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "zssr", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def parallel_inputs(tmp_path_factory):
    """A folder of six 32x32 crops of the astronaut and one file that is not an image."""
    import imageio.v3 as iio
    from skimage import data

    folder = tmp_path_factory.mktemp("parallel") / "in"
    folder.mkdir()
    image = data.astronaut()
    for i in range(6):
        iio.imwrite(folder / f"im{i}.png", image[40 + 24 * i:72 + 24 * i, 180:212])
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return folder


@pytest.fixture(scope="session")
def serial_reference(parallel_inputs):
    """The outputs of a serial, one-thread run over :func:`parallel_inputs`: {name: bytes}."""
    out = parallel_inputs.parent / "serial"
    done = run_zssr(parallel_inputs, "-o", out, "--threads", "1", *PARALLEL_FLAGS)
    assert done.returncode == 1, done.stderr  # broken.png fails, the others are done
    outputs = {p.name: p.read_bytes() for p in out.glob("*.png")}
    assert len(outputs) == 6
    return outputs


def run_log_lines(log):
    """The run log's lines as dicts, in order (none before it exists)."""
    import json

    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def check_stopped(out, log):
    """After a run over :func:`parallel_inputs` stopped midway: some but not all images are
    logged ``ok`` and no hidden (partial) file is left. Returns what :func:`check_resumed`
    needs: the log's lines so far and the finished outputs' modification times."""
    first = run_log_lines(log)
    done = {e["input"] for e in first if e["status"] == "ok"}
    assert 1 <= len(done) < 6, "the stop came too late to test a resumption"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a partial file was left"
    kept = {e["output"]: Path(e["output"]).stat().st_mtime_ns for e in first
            if e["status"] == "ok"}
    return first, kept


def check_resumed(out, log, first, kept, serial_reference):
    """After the ``--skip-existing`` run that followed :func:`check_stopped`: outputs identical
    to the serial reference, none of the finished images ran again, the log holds six ``ok``
    images and the broken one."""
    from zssr.runlog import RunLog

    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == serial_reference
    done = {e["input"] for e in first if e["status"] == "ok"}
    assert not [e for e in run_log_lines(log)[len(first):] if e["input"] in done], \
        "images finished before the stop ran again"
    assert {o: Path(o).stat().st_mtime_ns for o in kept} == kept
    final = RunLog(log).read()
    assert sorted(Path(k).name for k, e in final.items() if e["status"] == "ok") == \
        [f"im{i}.png" for i in range(6)]
    assert [Path(k).name for k, e in final.items() if e["status"] == "failed"] == ["broken.png"]
