"""The image pipeline: uploaded bytes in, clean resized JPEG variants out. No database, no Flask
(but flask_babel's gettext, which reads no request: outside one it leaves messages in English).

What a merchant (later a reviewer, or someone in a conversation) uploads is never served as it came:
its type is decided by decoding it (JPEG, PNG or WebP; the file name and the claimed type are ignored),
its pixel count is checked before decoding (``Image.MAX_IMAGE_PIXELS``: a pixel bomb costs a header read),
it is turned upright (``exif_transpose``), converted to sRGB, and re-drawn into a fresh image that carries
no metadata at all: EXIF (GPS position, camera serial, time), XMP and ICC profiles never reach a visitor.
Variants are progressive JPEGs: every browser and every app a photo may be shared to reads them, and they
encode about ten times faster than WebP (uploads and the demo city stay quick). Transparency is laid on
white. Each variant's file name holds a hash of the bytes served, so the files are immutable and cache
forever.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageCms, ImageOps

from app.errors import ValidationFailed

WIDTHS = (320, 640, 1280)  # the widths served, when the image is at least that wide
MAX_ASPECT = 4  # a variant is at most this many times as tall as it is wide (a long strip stays small)
FORMATS = ("JPEG", "PNG", "WEBP")  # decoders tried; a phone's JPEG with a depth map opens as MPO
ACCEPTED = {"JPEG", "MPO", "PNG", "WEBP"}
QUALITY = 82
EXTENSION = "jpg"
MATTE = (255, 255, 255)  # what shows through transparent pixels
DIGEST_CHARS = 32
SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Processed:
    """A clean image: its variants (narrowest first) and the hash their file names carry."""

    digest: str
    width: int  # of the upright image as uploaded
    height: int
    variants: tuple[Variant, ...]


def file_name(digest: str, width: int) -> str:
    """The name a variant is stored and served under."""
    return f"{digest}-{width}.{EXTENSION}"


def _refuse(code: str, field: str, message: str) -> ValidationFailed:
    # The details say the problem alone (a caller may name the file before it).
    return ValidationFailed(_("The image %(problem)s", problem=message), code=code, details={field: [message]})


def _megabytes(size: int) -> str:
    return _("%(n)s MB", n=f"{size / 1024 / 1024:.1f}".removesuffix(".0"))


def _open(content: bytes, max_pixels: int, field: str) -> Image.Image:
    """Open (header only) what decodes as one of FORMATS, refusing pixel bombs before any pixel is read."""
    # Pillow's own guard: open() warns past it and refuses twice as much; the check below refuses both.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(io.BytesIO(content), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning, where it is an error
        raise _too_many_pixels(field, max_pixels) from None
    except Exception:  # any decoder's complaint about the bytes: UnidentifiedImageError, SyntaxError, struct.error
        raise _unreadable(field) from None
    if image.format not in ACCEPTED:
        raise _unreadable(field)
    if image.width * image.height > max_pixels:
        raise _too_many_pixels(field, max_pixels)
    return image


def _unreadable(field: str) -> ValidationFailed:
    return _refuse("image_unreadable", field, _("must be a JPEG, PNG or WebP image (this file is not one, "
                                                "or it is damaged)."))


def _too_many_pixels(field: str, max_pixels: int) -> ValidationFailed:
    return _refuse("image_too_many_pixels", field,
                   _("has too many pixels: at most %(n)s megapixels.", n=f"{max_pixels / 1_000_000:g}"))


def _decode(content: bytes, max_pixels: int, widths: tuple[int, ...], field: str) -> Image.Image:
    """Decode fully: upright, in sRGB, as a fresh RGB image."""
    image = _open(content, max_pixels, field)
    try:
        image.verify()  # checks what it can without decoding (PNG chunks and checksums); the object is spent
    except Exception:
        raise _unreadable(field) from None
    image = _open(content, max_pixels, field)
    try:
        if image.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is far larger than we keep.
            image.draft("RGB", (max(widths), max(widths)))
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception:  # truncated data, a broken EXIF orientation
        raise _unreadable(field) from None
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            mode = "RGBA" if image.mode == "RGBA" else "RGB"
            image = ImageCms.profileToProfile(image, source, SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: keep the pixels as they are
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    # A fresh image holding only the pixels: nothing of the upload's info (EXIF, XMP, ICC, text) comes along.
    clean = Image.new("RGB", image.size, MATTE)
    if has_alpha:
        rgba = image.convert("RGBA")
        clean.paste(rgba, mask=rgba.getchannel("A"))
    else:
        clean.paste(image.convert("RGB"))
    return clean


def _sizes(width: int, height: int, widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """The variants' sizes, narrowest first: each wanted width the image reaches, and its own if narrower."""
    sizes: list[tuple[int, int]] = []
    for wanted in sorted(widths):
        scale = min(1.0, wanted / width, wanted * MAX_ASPECT / height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if not sizes or size[0] > sizes[-1][0]:
            sizes.append(size)
    return sizes


def process(content: bytes, *, max_bytes: int, max_pixels: int, widths: tuple[int, ...] = WIDTHS,
            field: str = "photo") -> Processed:
    """Check, clean and resize an uploaded image.

    :raises ValidationFailed: ``image_too_large`` (more than ``max_bytes``), ``image_unreadable`` (not a
        JPEG, PNG or WebP that decodes), ``image_too_many_pixels`` (more than ``max_pixels``); the details
        name ``field``.
    """
    if len(content) > max_bytes:
        raise _refuse("image_too_large", field, _("must be at most %(limit)s (this file is %(size)s).",
                                                  limit=_megabytes(max_bytes), size=_megabytes(len(content))))
    if not content:
        raise _refuse("image_unreadable", field, _("is an empty file."))
    return resize(_decode(content, max_pixels, widths, field), widths)


def resize(image: Image.Image, widths: tuple[int, ...] = WIDTHS) -> Processed:
    """Encode a clean RGB image (decoded by ``process``, or drawn: the demo city) at each width it reaches."""
    variants = []
    source = image
    for size in reversed(_sizes(image.width, image.height, widths)):  # each from the next larger: 3x cheaper
        source = source if size == source.size else source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        out = io.BytesIO()
        source.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
        variants.insert(0, Variant(size[0], size[1], out.getvalue()))
    digest = hashlib.sha256()
    for variant in variants:
        digest.update(variant.data)
    return Processed(digest.hexdigest()[:DIGEST_CHARS], image.width, image.height, tuple(variants))


def write_files(processed: Processed, directory: str | os.PathLike) -> None:
    """Store the variants under their content-hashed names (atomically; ones already there are kept)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for variant in processed.variants:
        target = folder / file_name(processed.digest, variant.width)
        if target.exists():
            continue
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        partial.write_bytes(variant.data)
        os.replace(partial, target)


def remove_files(digest: str, widths: list[int], directory: str | os.PathLike) -> None:
    """Delete a stored image's variants (those still there)."""
    for width in widths:
        (Path(directory) / file_name(digest, width)).unlink(missing_ok=True)
