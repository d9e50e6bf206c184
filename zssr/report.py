"""The HTML report of a run: one self-contained page (works offline, opened from disk).

Per image it shows a before/after slider (MATLAB-compatible bicubic against zssr at the same
size, with a zoom that magnifies both layers alike), the kernel's picture when there is one,
the training curve (loss, learning rate and reconstruction error against iteration, as inline
SVG), the time and PSNR-Y / SSIM-Y when a ground truth was given. Images are embedded as PNG
data URIs; CSS and script are inline; nothing is fetched.

>>> recorder = Recorder()
>>> progress = recorder.track("photo.png", bars)            # doctest: +SKIP
>>> record = process(job, progress=progress, ...)           # doctest: +SKIP
>>> recorder.add("photo.png", record)                       # doctest: +SKIP
>>> recorder.write("report.html")                           # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ReportEntry", "Recorder", "TrackedProgress", "entry_from_record", "entry_from_result",
           "comparison_pictures", "curve_svg", "render_report", "write_report", "MAX_SIDE"]

#: Embedded pictures are cropped (centre, same window for both layers) to this many pixels a
#: side: the comparison is about pixels, which downscaling would hide.
MAX_SIDE = 1600

_CSS = """
:root{--ink:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f5f6f8;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header{padding:18px 28px 8px}h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:var(--muted)}.toc{margin:8px 0 0;padding-left:20px;color:var(--muted)}
main{padding:8px 28px 28px}
.entry{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;
margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h2{margin:0 0 10px;font-size:17px;word-break:break-all}
.viewport{overflow:auto;max-height:60vh;background:#e9ecf1;border-radius:6px;
border:1px solid var(--line)}
.stage{position:relative;margin:0 auto;cursor:ew-resize;touch-action:none;user-select:none;
line-height:0}
.stage img{display:block;width:100%}
.stage img.before{position:absolute;top:0;left:0;height:100%;clip-path:inset(0 50% 0 0)}
.stage.pixelated img{image-rendering:pixelated}
.divider{position:absolute;top:0;bottom:0;left:50%;width:2px;margin-left:-1px;background:#fff;
box-shadow:0 0 0 1px rgba(0,0,0,.35);pointer-events:none}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:8px 0 2px;
color:var(--muted);font-size:13px}
.controls input[type=range]{flex:1;min-width:160px;accent-color:var(--accent)}
.controls select{font:inherit}.note{font-style:italic}
.details{display:flex;flex-wrap:wrap;gap:22px;align-items:flex-start;margin-top:12px}
dl{display:grid;grid-template-columns:auto auto;gap:3px 14px;margin:0;font-size:14px}
dt{color:var(--muted)}dd{margin:0;font-variant-numeric:tabular-nums}
.kernel{margin:0;text-align:center;font-size:12px;color:var(--muted)}
.kernel img{display:block;width:120px;height:auto;image-rendering:pixelated;
border:1px solid var(--line)}
.curve{width:100%;max-width:640px;height:auto;font-size:11px}
.curve .frame{fill:#fafbfc;stroke:var(--line)}
.curve polyline{fill:none;stroke-width:1.4}.curve circle{stroke:none}
.curve .loss{stroke:#a9c1f5}.curve .loss.smooth{stroke:#1d4ed8;stroke-width:2}
.curve .rate{stroke:#d97706}
.curve polyline.mse{stroke:#059669}.curve circle.mse{fill:#059669}
.curve .step{stroke:#9aa3b2;stroke-dasharray:4 3}
.curve .label{fill:var(--ink);font-weight:600}.curve .tick{fill:var(--muted)}
.curve .end{text-anchor:end}
"""

_JS = """
(function () {
  function setup(cmp) {
    var range = cmp.querySelector("input[type=range]"), zoom = cmp.querySelector("select");
    var stage = cmp.querySelector(".stage"), top = cmp.querySelector("img.before");
    var after = cmp.querySelector("img.after"), line = cmp.querySelector(".divider");
    function place() {
      var v = parseFloat(range.value);
      top.style.clipPath = "inset(0 " + (100 - v) + "% 0 0)";
      line.style.left = v + "%";
    }
    function fit() {
      var room = stage.parentNode.clientWidth, high = window.innerHeight * 0.55;
      return Math.max(1, Math.min(room, high * after.naturalWidth / after.naturalHeight));
    }
    function rezoom() {
      if (!after.naturalWidth) return;
      var z = zoom.value, w = z === "fit" ? fit() : after.naturalWidth * parseFloat(z);
      stage.style.width = w + "px";
      stage.classList.toggle("pixelated", w > after.naturalWidth + 0.5);
    }
    function drag(e) {
      var r = stage.getBoundingClientRect();
      range.value = Math.max(0, Math.min(100, 100 * (e.clientX - r.left) / r.width));
      place();
    }
    range.addEventListener("input", place);
    zoom.addEventListener("change", rezoom);
    after.addEventListener("load", rezoom);
    window.addEventListener("resize", function () { if (zoom.value === "fit") rezoom(); });
    stage.addEventListener("pointerdown", function (e) {
      stage.setPointerCapture(e.pointerId); drag(e); });
    stage.addEventListener("pointermove", function (e) { if (e.buttons) drag(e); });
    place(); rezoom();
  }
  function selftest() {
    var out = [], fails = 0, imgs = Array.prototype.slice.call(document.images);
    var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
    fails += bad.length;
    out.push("images=" + (imgs.length - bad.length) + "/" + imgs.length);
    var cmps = document.querySelectorAll(".cmp"), slid = 0, zoomed = 0;
    cmps.forEach(function (cmp) {
      var range = cmp.querySelector("input[type=range]"), top = cmp.querySelector("img.before");
      var zoom = cmp.querySelector("select"), stage = cmp.querySelector(".stage");
      var was = top.style.clipPath;
      range.value = 20; range.dispatchEvent(new Event("input"));
      if (top.style.clipPath !== was && top.style.clipPath.indexOf("80%") >= 0) slid++;
      zoom.value = "4"; zoom.dispatchEvent(new Event("change"));
      var want = cmp.querySelector("img.after").naturalWidth * 4;
      if (Math.abs(stage.getBoundingClientRect().width - want) < 1.5 &&
          getComputedStyle(top).imageRendering === "pixelated" &&
          Math.abs(top.getBoundingClientRect().width - want) < 1.5) zoomed++;
      zoom.value = "fit"; zoom.dispatchEvent(new Event("change"));
      range.value = 50; range.dispatchEvent(new Event("input"));
    });
    fails += (cmps.length - slid) + (cmps.length - zoomed);
    out.push("slider=" + slid + "/" + cmps.length, "zoom=" + zoomed + "/" + cmps.length);
    document.body.setAttribute("data-selftest", (fails ? "fail " : "ok ") + out.join(" "));
  }
  document.querySelectorAll(".cmp").forEach(setup);
  if (location.hash === "#selftest") {
    if (document.readyState === "complete") selftest();
    else window.addEventListener("load", selftest);
  }
})();
"""


@dataclass
class ReportEntry:
    """What the report shows for one image.

    Parameters
    ----------
    name : str
        The image's name (a heading).
    input, output : ndarray
        Float pixels in [0, 1] (HxW or HxWxC): the low-resolution input and zssr's output.
    scale : (float, float)
        The vertical and horizontal scale.
    kernel : ndarray, optional
        The downscaling kernel used (given or estimated); ``None`` for bicubic.
    events : list of (step, iteration, loss, learning_rate)
        The recorded training events (:class:`Recorder`).
    reconstruction : list of list of (iteration, mse)
        Per scale step, the reconstruction errors the rate policy measured.
    seconds : float, optional
        Wall time of the image (kernel estimation included).
    metrics : dict, optional
        ``{"psnr_y": ..., "ssim_y": ...}`` against a ground truth.
    """

    name: str
    input: np.ndarray
    output: np.ndarray
    scale: tuple[float, float]
    kernel: np.ndarray | None = None
    events: list[tuple[int, int, float, float]] = field(default_factory=list)
    reconstruction: list[list[tuple[int, float]]] = field(default_factory=list)
    seconds: float | None = None
    metrics: dict[str, Any] | None = None


class TrackedProgress:
    """A progress callback that records training events and forwards every event.

    ``close()`` and any other attribute reach the wrapped callback, so it can stand in for
    :class:`zssr.progress.ProgressBars`.
    """

    def __init__(self, events: list, progress: Callable[[Any], None] | None) -> None:
        self.events, self.progress = events, progress

    def __call__(self, event: Any) -> None:
        if getattr(event, "phase", None) == "train":
            self.events.append((int(event.step), int(event.iteration), float(event.loss),
                                float(event.learning_rate)))
        if self.progress is not None:
            self.progress(event)

    def close(self) -> None:
        """Close the wrapped callback, if it can be closed."""
        close = getattr(self.progress, "close", None)
        if close is not None:
            close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["progress"], name)


class Recorder:
    """Collects a report's images over a run or a batch.

    ``track(name, progress)`` wraps a progress callback; ``add(name, record)`` keeps the CLI's
    sidecar record of that image; ``write(path)`` re-reads each image and writes the page, so a
    long batch holds no pixels in memory.
    """

    def __init__(self) -> None:
        self.events: dict[str, list] = {}
        self.records: list[tuple[str, dict[str, Any]]] = []

    def track(self, name: str, progress: Callable[[Any], None] | None = None) -> TrackedProgress:
        """A callback that records ``name``'s training events and forwards them to ``progress``."""
        self.events[name] = []
        return TrackedProgress(self.events[name], progress)

    def add(self, name: str, record: dict[str, Any], events: Sequence | None = None) -> None:
        """Add the image of sidecar ``record`` (:func:`zssr.provenance.sidecar`) as ``name``,
        with its training ``events`` if they were recorded elsewhere (a worker process)."""
        if events is not None:
            self.events[name] = list(events)
        self.records.append((name, record))

    def entries(self) -> Iterator[ReportEntry]:
        """The added images' entries, one at a time (each re-reads its files)."""
        for name, record in self.records:
            yield entry_from_record(record, name=name, events=self.events.get(name, ()))

    def write(self, path: str | Path, *, title: str = "zssr report") -> Path:
        """Write the page of every added image to ``path`` (atomically)."""
        return write_report(path, self.entries(), title=title)


def entry_from_record(record: dict[str, Any], *, name: str | None = None,
                      events: Sequence[tuple[int, int, float, float]] = ()) -> ReportEntry:
    """An entry from a sidecar record: re-reads the input, the output and the kernel file."""
    from .io import read_image
    from .kernels import load_kernel

    scale = (float(record["scale"][0]), float(record["scale"][1]))
    kernel_path = record.get("kernel_path")
    files = record.get("kernel_files") or {}
    if not kernel_path and files:
        chosen = files.get(f"x{int(scale[0])}") or files[sorted(files)[-1]]
        kernel_path = chosen["mat"]
    kernel = load_kernel(kernel_path).kernel if kernel_path else None
    steps = record.get("steps") or []
    seconds = record.get("seconds")
    if seconds is not None:
        seconds = float(seconds) + float(record.get("kernel_estimation_seconds") or 0.0)
    return ReportEntry(
        name=name or Path(record["input"]).name, input=read_image(record["input"]).pixels,
        output=read_image(record["output"]).pixels, scale=scale, kernel=kernel,
        events=list(events), seconds=seconds, metrics=record.get("metrics"),
        reconstruction=[[(int(i), float(m)) for i, m in s.get("reconstruction_mse") or []]
                        for s in steps])


def entry_from_result(name: str, image: np.ndarray, result: Any, *, kernel: Any = None,
                      events: Sequence[tuple[int, int, float, float]] = (),
                      metrics: dict[str, Any] | None = None) -> ReportEntry:
    """An entry from an input array and its :class:`zssr.ZSSRResult` (library use)."""
    return ReportEntry(name=name, input=np.asarray(image), output=result.image,
                       scale=tuple(result.scale), kernel=kernel, events=list(events),
                       reconstruction=[list(s.reconstruction_mse) for s in result.steps],
                       seconds=result.seconds, metrics=metrics)


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    a = np.asarray(pixels, dtype=np.float64)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return (np.clip(a, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def _data_uri(picture: np.ndarray) -> str:
    from PIL import Image

    buffer = BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _crop_window(shape: Sequence[int], max_side: int) -> tuple[slice, slice]:
    """The centred window of at most ``max_side`` pixels a side."""
    h, w = int(shape[0]), int(shape[1])
    top, left = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
    return slice(top, top + min(h, max_side)), slice(left, left + min(w, max_side))


def comparison_pictures(entry: ReportEntry, max_side: int = MAX_SIDE
                        ) -> tuple[np.ndarray, np.ndarray, str]:
    """The bicubic and zssr uint8 pictures at the output's size (same crop) and a crop note."""
    from .resize import imresize

    out = np.asarray(entry.output)
    bicubic = imresize(np.asarray(entry.input, dtype=np.float32), entry.scale,
                       output_shape=out.shape[:2])
    rows, cols = _crop_window(out.shape, max_side)
    note = ""
    if out.shape[0] > max_side or out.shape[1] > max_side:
        note = (f"centre {cols.stop - cols.start}\u00d7{rows.stop - rows.start} crop of "
                f"{out.shape[1]}\u00d7{out.shape[0]}")
    return _to_uint8(bicubic[rows, cols]), _to_uint8(out[rows, cols]), note


def _log_y(values: Sequence[float]) -> Callable[[float], float] | None:
    good = [v for v in values if math.isfinite(v) and v > 0]
    if not good:
        return None
    lo, hi = math.log10(min(good)), math.log10(max(good))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return lambda v: (math.log10(v) - lo) / (hi - lo)


def _smoothed(values: Sequence[float]) -> list[float]:
    """An exponential moving average over a twentieth of the series, at least 5 points."""
    alpha, out = 2.0 / (max(5, len(values) // 20) + 1), []
    for v in values:
        out.append(v if not out else out[-1] + alpha * (v - out[-1]))
    return out


def _panel(label: str, series: Sequence[tuple[float, float]], x_max: float, top: float,
           css: str, style: str = "line") -> str:
    """One panel of the curve: a log-scaled polyline of (x, value) with its min/max labels;
    ``style`` ``'dots'`` marks each point, ``'smooth'`` adds a moving average over the line."""
    width, height, left, right = 640.0, 90.0, 62.0, 12.0
    to_y = _log_y([v for _, v in series])
    frame = (f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height}" '
             f'class="frame"/><text x="{width - right - 6}" y="{top + 14}" class="label end">'
             f"{html.escape(label)}</text>")
    if to_y is None:
        return frame + f'<text x="{left + 8}" y="{top + 50}" class="tick">not recorded</text>'
    kept = [(x, v) for x, v in series if math.isfinite(v) and v > 0]
    good = [v for _, v in kept]
    pts = [(left + (width - left - right) * x / x_max, top + height * (1 - to_y(v)))
           for x, v in kept]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    out = frame + f'<polyline class="{css}" points="{points}"/>'
    if style == "smooth" and len(kept) > 2:
        average = " ".join(f"{x:.1f},{top + height * (1 - to_y(v)):.1f}"
                           for (x, _), v in zip(pts, _smoothed(good)))
        out += f'<polyline class="{css} smooth" points="{average}"/>'
    if style == "dots":
        out += "".join(f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>'
                       for x, y in pts)
    return out + (f'<text x="{left - 4}" y="{top + 10}" class="tick end">{max(good):.3g}</text>'
                  f'<text x="{left - 4}" y="{top + height}" class="tick end">{min(good):.3g}'
                  "</text>")


def curve_svg(events: Sequence[tuple[int, int, float, float]],
              reconstruction: Sequence[Sequence[tuple[int, float]]]) -> str:
    """Inline SVG: loss, learning rate and reconstruction error (log scales) against iteration.

    One panel per series (the reconstruction panel only when tests were run); scale steps follow
    each other on one iteration axis, separated by dashed lines.
    """
    n_steps = max([e[0] + 1 for e in events] + [len(reconstruction), 1])
    lengths = [max([e[1] for e in events if e[0] == s] +
                   [i for i, _ in (reconstruction[s] if s < len(reconstruction) else [])] + [0])
               for s in range(n_steps)]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    x_max = max(offsets[-1], 1)
    loss = [(offsets[s] + i, v) for s, i, v, _ in events]
    rate = [(offsets[s] + i, r) for s, i, _, r in events]
    mse = [(offsets[s] + i, m) for s, step in enumerate(reconstruction) for i, m in step]
    panels = [("loss", loss, "loss", "smooth"), ("learning rate", rate, "rate", "line")]
    if mse:  # the cosine schedule runs no reconstruction tests
        panels.append(("reconstruction", mse, "mse", "dots"))
    body = "".join(_panel(label, series, x_max, 6 + 100 * n, css, style)
                   for n, (label, series, css, style) in enumerate(panels))
    bottom = 100 * len(panels)
    for s in range(1, n_steps):
        x = 62 + (640 - 74) * offsets[s] / x_max
        body += (f'<line x1="{x:.1f}" x2="{x:.1f}" y1="6" y2="{bottom - 4}" class="step"/>'
                 f'<text x="{x + 3:.1f}" y="18" class="tick">step {s + 1}</text>')
    body += (f'<text x="62" y="{bottom + 12}" class="tick">0</text>'
             f'<text x="628" y="{bottom + 12}" class="tick end">{int(x_max)} iterations</text>')
    return (f'<svg class="curve" viewBox="0 0 640 {bottom + 18}" role="img" '
            f'aria-label="training curve">{body}</svg>')


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _facts(entry: ReportEntry) -> str:
    h, w = np.asarray(entry.input).shape[:2]
    oh, ow = np.asarray(entry.output).shape[:2]
    scale = "\u00d7" + (f"{entry.scale[0]:g}" if entry.scale[0] == entry.scale[1]
                        else f"{entry.scale[0]:g}\u00d7{entry.scale[1]:g}")
    rows = [("scale", scale), ("size", f"{w}\u00d7{h} \u2192 {ow}\u00d7{oh}"),
            ("time", _duration(entry.seconds)),
            ("iterations", str(len(entry.events)) if entry.events else "\u2013")]
    if entry.metrics:
        rows += [("PSNR-Y", f"{entry.metrics['psnr_y']:.2f} dB"),
                 ("SSIM-Y", f"{entry.metrics['ssim_y']:.4f}")]
    return "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)


def _section(entry: ReportEntry, index: int) -> str:
    from .kernels import kernel_picture

    before, after, note = comparison_pictures(entry)
    kernel = ""
    if entry.kernel is not None:
        k = np.asarray(entry.kernel)
        pixel = max(4, 160 // max(k.shape))
        kernel = (f'<figure class="kernel"><img alt="kernel" src="'
                  f'{_data_uri(kernel_picture(k, pixel=pixel))}"><figcaption>kernel '
                  f"{k.shape[1]}\u00d7{k.shape[0]}</figcaption></figure>")
    name = html.escape(entry.name)
    crop = f'<span class="note">{html.escape(note)}</span>' if note else ""
    return (
        f'<section class="entry" id="image-{index}"><h2>{name}</h2>'
        f'<div class="cmp"><div class="viewport"><div class="stage">'
        f'<img class="after" alt="zssr" src="{_data_uri(after)}">'
        f'<img class="before" alt="bicubic" src="{_data_uri(before)}">'
        f'<div class="divider"></div></div></div>'
        f'<div class="controls"><span>\u25c0 bicubic</span>'
        f'<input type="range" min="0" max="100" step="0.1" value="50" aria-label="divider">'
        f'<span>zssr \u25b6</span><label>zoom <select>'
        f'<option value="fit">fit</option><option value="1">1\u00d7</option>'
        f'<option value="2">2\u00d7</option><option value="4">4\u00d7</option>'
        f'<option value="8">8\u00d7</option></select></label>{crop}</div></div>'
        f'<div class="details"><dl>{_facts(entry)}</dl>{kernel}'
        f'{curve_svg(entry.events, entry.reconstruction)}</div></section>')


def render_report(entries: Iterable[ReportEntry], *, title: str = "zssr report") -> str:
    """The page's HTML (one section per entry, in order), with its CSS and script inline.

    ``entries`` is consumed once, one entry at a time.
    """
    names, sections = [], []
    for i, entry in enumerate(entries):
        names.append(html.escape(entry.name))
        sections.append(_section(entry, i))
    toc = "".join(f'<li><a href="#image-{i}">{n}</a></li>' for i, n in enumerate(names))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{html.escape(title)}</h1><p>{len(names)} image"
            f"{'s' if len(names) != 1 else ''}: drag across a picture or the slider to "
            f"compare bicubic with zssr; zoom to see pixels.</p>"
            f"{'<ol class=toc>' + toc + '</ol>' if len(names) > 1 else ''}</header>"
            f"<main>{''.join(sections)}</main><script>{_JS}</script></body></html>\n")


def write_report(path: str | Path, entries: Iterable[ReportEntry], *,
                 title: str = "zssr report", overwrite: bool = True) -> Path:
    """Write the self-contained report page of ``entries`` to ``path`` atomically."""
    from .io import atomic_write

    path = Path(path)
    text = render_report(entries, title=title)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write, overwrite)
    return path
