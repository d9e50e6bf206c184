"""Use zssr from Python: arrays in, arrays out.

    .venv/bin/python examples/upscale_array.py photo.png
"""

import sys

import zssr
from zssr.io import read_image, write_image


def progress(event: zssr.ProgressEvent) -> None:
    if event.phase == "train" and event.iteration % 50 == 0:
        print(f"iteration {event.iteration}: loss {event.loss:.4f}, lr {event.learning_rate:.0e}")


if len(sys.argv) != 2:
    sys.exit(f"usage: {sys.argv[0]} IMAGE\n{__doc__}")
loaded = read_image(sys.argv[1])               # float32 pixels in [0, 1], alpha split off
config = zssr.preset("warm", seed=1)   # the recommended default; or "ideal", "kernel", "real"
result = zssr.ZSSR(config).run(loaded.pixels, scale=2, progress=progress)
print(f"{result.iterations} iterations, {result.seconds:.0f} s")
write_image("upscaled.png", result.image, loaded.info, overwrite=True)  # alpha: see zssr.cli
