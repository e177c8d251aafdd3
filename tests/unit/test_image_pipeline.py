"""The photo pipeline (app/media/images.py): what an upload becomes, and what it may not be. No database."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from app.errors import ValidationFailed
from app.media import images

MB = 1024 * 1024
LIMITS = {"max_bytes": 8 * MB, "max_pixels": 40_000_000}
WEST_LAKE_GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 14.0, 45.6),
                 ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (120.0, 8.0, 56.4)}


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def two_tone(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: which way is up survives resizing."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 30, 220), (width // 2, 0, width, height))
    return image


def phone_jpeg(width: int = 1600, height: int = 1200, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: camera, time and GPS position in EXIF, an orientation tag."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Onsite Phone"
    exif[ExifTags.Base.Model] = "Spy 1"
    exif[ExifTags.Base.DateTime] = "2026:11:28 10:00:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = WEST_LAKE_GPS
    return encode(two_tone(width, height), "JPEG", exif=exif, quality=90)


def opened(variant: images.Variant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.data))
    image.load()
    return image


def test_the_phone_jpeg_really_carries_gps():
    source = Image.open(io.BytesIO(phone_jpeg()))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"


def test_exif_and_gps_never_reach_the_variants():
    processed = images.process(phone_jpeg(), **LIMITS)

    for variant in processed.variants:
        image = opened(variant)
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
        assert b"Exif" not in variant.data and b"Onsite Phone" not in variant.data and b"Spy 1" not in variant.data


def test_orientation_is_applied():
    # Orientation 6: the camera was turned; shown upright, the landscape sensor image stands as a portrait
    # whose top is the sensor's left edge (red).
    processed = images.process(phone_jpeg(1600, 1200, orientation=6), **LIMITS)

    assert (processed.width, processed.height) == (1200, 1600)
    image = opened(processed.variants[-1])
    assert image.width < image.height
    top, bottom = image.getpixel((image.width // 2, 10)), image.getpixel((image.width // 2, image.height - 10))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # red above, blue below


@pytest.mark.parametrize("size, expected", [
    ((4000, 3000), [(320, 240), (640, 480), (1280, 960)]),
    ((1000, 500), [(320, 160), (640, 320), (1000, 500)]),
    ((640, 640), [(320, 320), (640, 640)]),
    ((200, 100), [(200, 100)]),
    ((300, 6000), [(64, 1280), (128, 2560), (256, 5120)]),  # a strip: at most four times as tall as wide
], ids=["photo", "mid", "exact", "small", "strip"])
def test_variants_are_the_widths_the_image_reaches(size, expected):
    processed = images.process(encode(two_tone(*size), "PNG"), **LIMITS)

    assert [(v.width, v.height) for v in processed.variants] == expected
    assert [opened(v).size for v in processed.variants] == expected
    assert (processed.width, processed.height) == size


def test_names_are_content_hashes():
    first = images.process(encode(two_tone(800, 600), "PNG"), **LIMITS)
    again = images.process(encode(two_tone(800, 600), "WEBP", lossless=True), **LIMITS)
    other = images.process(encode(two_tone(801, 600), "PNG"), **LIMITS)

    assert first.digest == again.digest != other.digest  # the same pixels, whatever the upload's format
    assert len(first.digest) == images.DIGEST_CHARS and int(first.digest, 16) >= 0
    assert images.file_name(first.digest, 640) == f"{first.digest}-640.jpg"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_each_accepted_type_is_read(fmt):
    processed = images.process(encode(two_tone(700, 400), fmt), **LIMITS)
    assert [v.width for v in processed.variants] == [320, 640, 700]


def test_transparency_is_laid_on_white_and_metadata_of_png_dropped():
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 200, 300))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Someone Private")
    processed = images.process(encode(image, "PNG", pnginfo=text), **LIMITS)

    variant = opened(processed.variants[-1])
    assert variant.mode == "RGB"
    assert variant.getpixel((390, 150)) == pytest.approx((255, 255, 255), abs=2)
    assert variant.getpixel((10, 150))[1] > 100
    assert b"Someone Private" not in processed.variants[-1].data


def test_a_colour_profile_is_applied_and_not_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    processed = images.process(encode(two_tone(400, 300), "JPEG", icc_profile=srgb), **LIMITS)
    assert "icc_profile" not in opened(processed.variants[0]).info
    assert opened(processed.variants[0]).getpixel((10, 10))[0] > 180

    # A profile that cannot be read is ignored, not fatal.
    broken = images.process(encode(two_tone(400, 300), "JPEG", icc_profile=b"not a profile"), **LIMITS)
    assert "icc_profile" not in opened(broken.variants[0]).info


# -- refused ------------------------------------------------------------------------------------------

def refused(content: bytes, **limits) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as excinfo:
        images.process(content, **{**LIMITS, **limits})
    error = excinfo.value
    assert error.details["photo"] and error.message.startswith("The image ")
    return error


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("content", [
    PDF,  # a PDF renamed photo.jpg: the name is never read
    b"\xff\xd8\xff\xe0 a JPEG header and then nothing",  # the magic bytes alone
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"GIF89a" + encode(two_tone(8, 8), "GIF")[6:],  # a real GIF: not a type we take
    encode(two_tone(8, 8), "BMP"),
    encode(two_tone(8, 8), "TIFF"),
    b"just some text, not an image\n" * 10,
    b"<?php echo 1; ?>",
    b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64),  # a RIFF file that is audio, not a WebP
    b"x" + encode(two_tone(8, 8), "PNG"),  # a PNG's magic, but not at the start
], ids=["pdf", "jpeg-magic-only", "svg", "gif", "bmp", "tiff", "text", "php", "riff-wave", "magic-not-first"])
def test_what_is_not_a_jpeg_png_or_webp_is_refused(content):
    error = refused(content)
    assert error.code == "image_unreadable" and error.http_status == 422


def test_a_truncated_image_is_refused():
    whole = encode(two_tone(800, 600), "PNG")
    assert refused(whole[: len(whole) // 2]).code == "image_unreadable"
    jpeg = phone_jpeg()
    assert refused(jpeg[: len(jpeg) // 3]).code == "image_unreadable"


def test_an_empty_file_is_refused():
    assert refused(b"").code == "image_unreadable"


def test_a_file_over_the_size_limit_is_refused_before_decoding():
    content = phone_jpeg()
    error = refused(content, max_bytes=len(content) - 1)
    assert (error.code, error.http_status) == ("image_too_large", 413)
    assert "must be at most" in error.details["photo"][0]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny file whose header promises a huge image (a pixel bomb): a few bytes, gigabytes once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes((8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) \
        + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(50_000, 50_000), (7_000, 7_000), (100_000, 1)],
                         ids=["far-beyond", "just-beyond", "thin"])
def test_pixel_bombs_are_refused_from_the_header(width, height):
    bomb = png_declaring(width, height)
    assert len(bomb) < 2000
    error = refused(bomb, max_pixels=40_000_000)
    assert error.code == ("image_too_many_pixels" if width * height > 40_000_000 else "image_unreadable")


def test_the_pixel_limit_is_the_setting():
    content = encode(two_tone(100, 100), "PNG")
    assert refused(content, max_pixels=9_999).code == "image_too_many_pixels"
    assert images.process(content, **{**LIMITS, "max_pixels": 10_000}).variants


def test_a_refusal_names_the_field_it_was_given():
    with pytest.raises(ValidationFailed) as excinfo:
        images.process(PDF, **LIMITS, field="photos")
    assert list(excinfo.value.details) == ["photos"]


def test_files_are_written_once_under_their_names_and_removed(tmp_path):
    processed = images.process(encode(two_tone(700, 400), "PNG"), **LIMITS)
    images.write_files(processed, tmp_path)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(images.file_name(processed.digest, w) for w in (320, 640, 700))
    assert (tmp_path / names[0]).read_bytes() in {v.data for v in processed.variants}

    images.write_files(processed, tmp_path)  # again: nothing changes, nothing half-written stays
    assert sorted(path.name for path in tmp_path.iterdir()) == names

    images.remove_files(processed.digest, [320, 640, 700, 1280], tmp_path)
    assert list(tmp_path.iterdir()) == []
