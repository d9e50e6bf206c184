"""Reading and writing images at the edge of the engine (the engine itself never touches files).

Input policy
------------
* Pixels are decoded by OpenCV, which keeps 16-bit colour and float TIFFs (Pillow would drop
  16-bit RGB to 8 bits); Pillow supplies the metadata: the colour mode and the EXIF orientation,
  which is applied (phone photos come out upright).
* The white level comes from the dtype, never from the pixel values: uint8 -> 255,
  uint16 -> 65535, float -> 1.0 (float values outside [0, 1] are clipped and the fraction is
  recorded).
* Gray (L, I;16, HxW, HxWx1) stays gray; palette images are expanded to RGB(A); an alpha channel
  (RGBA, LA, palette transparency) is split off, upscaled separately with bicubic interpolation
  and put back.
* Outputs keep the input's mode (L, LA, RGB, RGBA) and bit depth: 8- and 16-bit inputs give PNGs
  of the same depth, float inputs a float32 TIFF; JPEG inputs give lossless 8-bit PNGs.
* Writes go to a hidden temporary file in the target folder that is renamed into place, so an
  interrupted run never leaves a half-written image; an existing file is replaced only on request.
  The temporary name is never longer than the final one, and the file gets the permissions any
  other writer would give it (0666 less the umask).
* :func:`image_size` reads an image's size from its header, so that a size limit can be
  checked before decoding; :func:`jpeg_info` reads the quality and chroma subsampling a JPEG
  file was saved with from its quantisation tables, so that ZSSR's sons can be compressed the
  same way (:mod:`zssr.degrade`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .weights import sha256_file  # noqa: F401  (re-exported: io is where callers look)

__all__ = [
    "IMAGE_SUFFIXES",
    "list_images",
    "ImageInfo",
    "ImageReadError",
    "LoadedImage",
    "read_image",
    "image_size",
    "JpegInfo",
    "jpeg_info",
    "write_image",
    "write_json",
    "atomic_write",
    "temporary_name",
    "to_dtype",
    "output_suffix",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
# EXIF orientation -> (quarter turns counter-clockwise after an optional left-right mirror)
_ORIENT = {1: (False, 0), 2: (True, 0), 3: (False, 2), 4: (True, 2),
           5: (True, 1), 6: (False, 3), 7: (True, 3), 8: (False, 1)}


class ImageReadError(ValueError):
    """An input file could not be read as an image; the message names the file and the fix."""


@dataclass(frozen=True)
class ImageInfo:
    """What is needed to write an output in the input's mode and bit depth."""

    dtype: str  # "uint8", "uint16" or "float32"
    mode: str  # "L", "LA", "RGB" or "RGBA"
    orientation: int = 1  # EXIF orientation that was applied (1: none)
    palette: bool = False
    clipped_fraction: float = 0.0  # float inputs: share of values outside [0, 1]

    @property
    def gray(self) -> bool:
        return self.mode in ("L", "LA")

    @property
    def has_alpha(self) -> bool:
        return self.mode in ("LA", "RGBA")


@dataclass
class LoadedImage:
    """Float32 pixels in [0, 1] (HxW gray or HxWx3 RGB), the alpha plane if any, and the info."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    info: ImageInfo

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape[:2]  # type: ignore[return-value]


def _pil_metadata(path: Path) -> tuple[str | None, int]:
    try:
        from PIL import Image

        with Image.open(path) as im:
            mode = im.mode
            if mode == "P" and ("transparency" in im.info):
                mode = "PA"
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            return mode, orientation if orientation in _ORIENT else 1
    except Exception:
        return None, 1


def image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(height, width)`` of an image file as its header states it, without decoding pixels.

    Read by Pillow, which parses only the header; its decompression-bomb limit does not apply
    here (the caller compares the size with its own limit, e.g. ``max_pixels``). The size is the
    stored one, before any EXIF rotation (which does not change the pixel count).

    Returns
    -------
    (int, int) or None
        None when Pillow cannot read the header (missing file, a format it does not know); the
        caller then learns the size from the decoded image.
    """
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
    except Image.DecompressionBombError:
        return _size_past_the_bomb_check(Path(path))
    except Exception:
        return None
    return int(height), int(width)


@dataclass(frozen=True)
class JpegInfo:
    """What a JPEG file's header says about how it was compressed.

    Attributes
    ----------
    quality : int
        The IJG quality (1-100) whose scaled standard tables are nearest to the file's
        quantisation tables (in mean absolute log ratio).
    subsampling : str
        ``"4:4:4"``, ``"4:2:2"`` or ``"4:2:0"`` for colour files; a gray file or an unusual
        layout reads as ``"4:2:0"`` (gray files have no chroma to subsample).
    standard : bool
        Whether the tables are exactly the IJG ones at ``quality`` (libjpeg, Pillow, OpenCV
        and most software); cameras and phones often use tables of their own, for which
        ``quality`` is the nearest equivalent.
    mismatch : float
        The mean absolute log ratio between the file's tables and the chosen quality's (0 when
        ``standard``).
    """

    quality: int
    subsampling: str
    standard: bool
    mismatch: float

    def to_dict(self) -> dict[str, Any]:
        return {"quality": self.quality, "subsampling": self.subsampling,
                "standard_tables": self.standard, "table_mismatch": round(self.mismatch, 4)}


_IJG_BASE: dict[int, np.ndarray] = {}


def _ijg_base_tables() -> dict[int, np.ndarray]:
    """The standard luma (0) and chroma (1) tables, in the order Pillow reports tables, read
    from a quality-50 encoding (where the IJG scaling is the identity)."""
    if not _IJG_BASE:
        import io as _bytes

        from PIL import Image

        buffer = _bytes.BytesIO()
        Image.new("RGB", (16, 16)).save(buffer, "JPEG", quality=50)
        buffer.seek(0)
        with Image.open(buffer) as im:
            _IJG_BASE.update({k: np.asarray(v, dtype=np.float64)
                              for k, v in im.quantization.items()})
    return _IJG_BASE


def ijg_tables(quality: int) -> dict[int, np.ndarray]:
    """The IJG (libjpeg) quantisation tables at ``quality`` (1-100), baseline (at most 255)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality  # libjpeg's integer maths
    return {k: np.clip((base.astype(np.int64) * scale + 50) // 100, 1, 255).astype(np.float64)
            for k, base in _ijg_base_tables().items()}


_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}


def jpeg_info(path: str | os.PathLike) -> JpegInfo | None:
    """The quality and chroma subsampling a JPEG file was saved with, from its header.

    Returns
    -------
    JpegInfo or None
        None when the file is not a JPEG (whatever its name says) or has no readable
        quantisation tables.
    """
    from PIL import Image, JpegImagePlugin

    try:
        with Image.open(path) as im:
            if not isinstance(im, JpegImagePlugin.JpegImageFile):  # JPEG, and MPO (phones)
                return None
            tables = {k: np.asarray(v, dtype=np.float64) for k, v in im.quantization.items()}
            sampling = JpegImagePlugin.get_sampling(im)
    except Exception:
        return None
    tables = {k: t for k, t in tables.items() if k in (0, 1) and t.size == 64}
    if 0 not in tables:
        return None
    logs = {k: np.log(np.maximum(t, 1.0)) for k, t in tables.items()}
    best, best_error = 0, np.inf
    for quality in range(1, 101):
        reference = ijg_tables(quality)
        error = float(np.mean(np.concatenate(
            [np.abs(logs[k] - np.log(reference[k])) for k in logs])))
        if error < best_error - 1e-12:
            best, best_error = quality, error
    return JpegInfo(quality=best, subsampling=_SUBSAMPLING.get(sampling, "4:2:0"),
                    standard=best_error == 0.0, mismatch=best_error)


def _size_past_the_bomb_check(path: Path) -> tuple[int, int] | None:
    """What ``Image.open`` does, less its decompression-bomb check: try each registered format's
    opener on the header."""
    from PIL import Image

    Image.init()
    with open(path, "rb") as fh:
        prefix = fh.read(16)
        for name in Image.ID:
            factory, accept = Image.OPEN[name]
            if accept is not None and not accept(prefix):
                continue
            fh.seek(0)
            try:
                width, height = factory(fh, str(path)).size
            except Exception:
                continue
            return int(height), int(width)
    return None


def _decode(path: Path) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8)
    flags = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        data = cv2.imdecode(raw, flags) if raw.size else None
    except cv2.error:
        size = image_size(path)
        what = f"a {size[1]}x{size[0]} (width x height) image" if size else "an image"
        raise ImageReadError(f"{path}: the decoder refuses {what} (too large or malformed); "
                             "re-export it smaller or remove it from the input") from None
    if data is None:
        raise ImageReadError(
            f"{path}: cannot be decoded as an image (truncated, corrupt, or not an image file); "
            "re-export it or remove it from the input"
        )
    if raw[:2].tobytes() == b"\xff\xd8":
        # OpenCV 4.x returns a truncated JPEG grey-filled with only a warning; Pillow raises.
        try:
            from PIL import Image

            with Image.open(path) as im:
                im.load()
        except OSError as exc:
            raise ImageReadError(f"{path}: JPEG is truncated or corrupt ({exc}); re-export it "
                                 "or remove it from the input") from None
    return data


def read_image(path: str | os.PathLike) -> LoadedImage:
    """Read an image file following the input policy of this module.

    Raises
    ------
    ImageReadError
        Missing, empty, truncated or undecodable file, or an unsupported pixel type.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file; check the path")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: file is empty (0 bytes); re-export it or remove it")
    data = _decode(path)
    pil_mode, orientation = _pil_metadata(path)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim == 2:
        gray, alpha = data, None
        color = None
    elif data.shape[2] in (3, 4):
        rgb = data[:, :, 2::-1]  # OpenCV gives BGR(A)
        alpha = data[:, :, 3] if data.shape[2] == 4 else None
        gray_file = pil_mode in _GRAY_MODES
        gray, color = (rgb[:, :, 0], None) if gray_file else (None, rgb)
    else:
        raise ImageReadError(f"{path}: unsupported channel count {data.shape[2]}")

    if data.dtype == np.uint8:
        white, dtype = 255.0, "uint8"
    elif data.dtype == np.uint16:
        white, dtype = 65535.0, "uint16"
    elif data.dtype in (np.float32, np.float64):
        white, dtype = 1.0, "float32"
    else:
        raise ImageReadError(f"{path}: unsupported pixel type {data.dtype}; use 8-bit, 16-bit "
                             "or float images")
    pixels = (gray if gray is not None else color).astype(np.float32) / white
    clipped = 0.0
    if dtype == "float32":
        if not np.all(np.isfinite(pixels)):
            raise ImageReadError(f"{path}: image contains NaN or infinite values")
        clipped = float(np.mean((pixels < 0) | (pixels > 1)))
        pixels = np.clip(pixels, 0.0, 1.0)
    alpha_f = None if alpha is None else np.clip(alpha.astype(np.float32) / white, 0.0, 1.0)

    flip, turns = _ORIENT[orientation]
    if flip or turns:
        def orient(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.rot90(a[:, ::-1] if flip else a, turns))
        pixels = orient(pixels)
        alpha_f = None if alpha_f is None else orient(alpha_f)
    mode = ("L" if gray is not None else "RGB") + ("A" if alpha_f is not None else "")
    info = ImageInfo(dtype=dtype, mode=mode, orientation=orientation,
                     palette=pil_mode in ("P", "PA"), clipped_fraction=clipped)
    return LoadedImage(np.ascontiguousarray(pixels), alpha_f, info)


def list_images(folders: Sequence[str | os.PathLike]) -> list[Path]:
    """Image files (by suffix) under each folder, recursively, sorted per folder.

    Raises
    ------
    FileNotFoundError
        If a folder does not exist or holds no images.
    """
    files: list[Path] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise FileNotFoundError(f"not a folder: {folder}")
        found = sorted(p for p in folder.rglob("*")
                       if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        if not found:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
        files.extend(found)
    return files


def to_dtype(image: np.ndarray, dtype: str) -> np.ndarray:
    """Round (not truncate) a float [0, 1] image to ``uint8``/``uint16``, or keep float32."""
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if dtype == "uint8":
        return np.round(image * 255.0).astype(np.uint8)
    if dtype == "uint16":
        return np.round(image * 65535.0).astype(np.uint16)
    return image.astype(np.float32)


def output_suffix(info: ImageInfo) -> str:
    """File suffix that can hold the input's bit depth: ``.png`` (8/16 bit) or ``.tif`` (float)."""
    return ".tif" if info.dtype == "float32" else ".png"


def temporary_name(name: str, token: str) -> str:
    """The hidden temporary name that :func:`atomic_write` uses for a final file ``name``.

    ``"." + token + "." + stem + suffix``, the stem cut so that the result is never longer (in
    bytes, as the file system counts) than ``name``: a name that fits the folder's limit
    (``NAME_MAX``, usually 255 bytes) still fits while it is being written. Only a name shorter
    than the token itself gets a longer (and still short) temporary name. The suffix is kept,
    as writers such as ``keras.Model.save`` choose the format by it.
    """
    path = Path(name)
    stem, suffix = path.stem, path.suffix
    head = f".{token}."
    room = len(os.fsencode(name)) - len(os.fsencode(head + suffix))
    while stem and len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return head + stem + suffix if stem else f".{token}{suffix}"


def _create_temporary(path: Path) -> Path:
    """Create an empty hidden file next to ``path`` that no one else has, with mode 0666 less
    the umask (as any other writer would; ``mkstemp`` would give 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.with_name(temporary_name(path.name, secrets.token_hex(4)))
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{path.parent}: no free temporary name for {path.name}")


def atomic_write(path: Path, write: Callable[[str], None], overwrite: bool) -> None:
    """Write ``path`` through ``write(tmp)`` on a hidden temporary file in the same folder, then
    rename it into place, so that no reader ever sees a half-written file.

    The temporary file is named by :func:`temporary_name` (never longer than ``path``'s name) and
    created with the permissions any other writer would give the file (0666 less the umask, or
    the folder's default ACL), which the rename keeps.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} exists; pass overwrite=True to replace it"
        )
    tmp = _create_temporary(path)
    try:
        write(str(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_image(path: str | os.PathLike, pixels: np.ndarray, info: ImageInfo | None = None, *,
                alpha: np.ndarray | None = None, overwrite: bool = False) -> Path:
    """Write float [0, 1] pixels (and alpha) atomically in the mode and bit depth of ``info``.

    Without ``info`` the image is written as 8-bit, gray or RGB as given.
    """
    path = Path(path)
    dtype = info.dtype if info is not None else "uint8"
    if dtype == "float32" and path.suffix.lower() not in (".tif", ".tiff"):
        raise ValueError(f"{path}: float images are written as .tif, not {path.suffix}")
    data = np.asarray(pixels)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if alpha is not None:
        data = np.dstack([data, alpha])
    out = to_dtype(data, dtype)
    if out.ndim == 3 and out.shape[2] == 2:
        # OpenCV cannot write gray + alpha; Pillow can for 8 bits. 16-bit LA goes out as RGBA.
        if out.dtype == np.uint8:
            def write(tmp: str) -> None:
                from PIL import Image

                Image.fromarray(out, "LA").save(tmp, format="PNG")
            atomic_write(path, write, overwrite)
            return path
        out = np.dstack([out[:, :, 0]] * 3 + [out[:, :, 1]])
    if out.ndim == 3:
        out = out[:, :, [2, 1, 0, 3][: out.shape[2]]]  # RGB(A) -> BGR(A) for OpenCV

    def write_cv(tmp: str) -> None:
        ok, buf = cv2.imencode(path.suffix, out)
        if not ok:
            raise OSError(f"{path}: OpenCV could not encode a {out.dtype} {out.shape} image")
        buf.tofile(tmp)

    atomic_write(path, write_cv, overwrite)
    return path


def write_json(path: str | os.PathLike, payload: dict[str, Any], *, overwrite: bool = True) -> Path:
    """Write a JSON document atomically."""
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, default=_jsonable)
            fh.write("\n")

    atomic_write(path, write, overwrite)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
