"""Pictures for the demo city, drawn here with Pillow (nothing is fetched): for each category a few scenes
(a gradient, soft circles, the category's glyph on a badge and its name) and a few shop fronts for stores.

The set is small and shared by the city's ~400 experiences and ~120 stores, so drawing and encoding it all
takes about a second; each picture is drawn once per process and stored once (its files are named by their
content, like any upload). The demo studio's experiences and stores get a small gallery each.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps
from sqlalchemy import Select, exists, select

from app.extensions import db
from app.media import images
from app.media.models import Photo, StoredImage
from app.media.services import MediaSettings, media_settings, save_processed
from app.merchants.models import Store
from app.offerings.models import Category, Offering, category_names

SIZE = (960, 640)  # variants 320, 640 and 960 wide
SCENES = 5  # per category
SHOPFRONTS = 8
GALLERY = 3  # photos of each experience and store of the demo studio
Color = tuple[int, int, int]

# (light, dark, glyph) colours of each category's scenes.
PALETTES: dict[str, tuple[Color, Color, Color]] = {
    Category.BEAUTY: ((250, 206, 214), (176, 64, 104), (150, 24, 70)),
    Category.FITNESS: ((190, 230, 200), (30, 120, 90), (20, 70, 60)),
    Category.CLASS: ((240, 214, 180), (160, 90, 50), (120, 60, 30)),
    Category.FOOD: ((214, 236, 180), (70, 130, 60), (40, 90, 40)),
    Category.WELLNESS: ((200, 226, 240), (60, 110, 160), (40, 70, 120)),
    Category.FASHION: ((226, 210, 246), (100, 60, 160), (70, 40, 120)),
    Category.FAMILY: ((255, 230, 160), (230, 120, 50), (200, 70, 40)),
    Category.OTHER: ((220, 220, 226), (90, 96, 120), (60, 64, 90)),
}
WHAT = {  # what each glyph shows, for the alt text
    Category.BEAUTY: "a lipstick", Category.FITNESS: "a dumbbell", Category.CLASS: "a clay vase",
    Category.FOOD: "a steaming tea cup", Category.WELLNESS: "a stack of smooth stones",
    Category.FASHION: "a clothes hanger", Category.FAMILY: "three balloons", Category.OTHER: "a star",
}
SIGNS = ("Welcome", "Come in", "Open today", "Try it on site")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _gradient(top: Color, bottom: Color, angle: float) -> Image.Image:
    """A linear gradient from ``top`` to ``bottom`` turned by ``angle`` degrees, covering SIZE.

    Made small and stretched: a gradient has no detail to lose, and this is many times cheaper.
    """
    ramp = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR).crop((40, 40, 216, 216))
    return ImageOps.colorize(ramp, top, bottom).resize(SIZE, Image.Resampling.BILINEAR)


def _bokeh(draw: ImageDraw.ImageDraw, rng: random.Random, color: Color) -> None:
    for _ in range(rng.randint(6, 10)):
        radius = rng.randint(30, 140)
        x, y = rng.randint(0, SIZE[0]), rng.randint(0, SIZE[1])
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*color, rng.randint(28, 70)))


def _lipstick(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    d.rounded_rectangle((x - .22 * s, y, x + .22 * s, y + .6 * s), radius=.05 * s, fill=(200, 160, 70))
    d.rectangle((x - .16 * s, y - .25 * s, x + .16 * s, y), fill=(60, 30, 40))
    d.polygon([(x - .14 * s, y - .25 * s), (x + .14 * s, y - .25 * s), (x + .14 * s, y - .62 * s),
               (x - .14 * s, y - .42 * s)], fill=c)


def _dumbbell(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    d.rectangle((x - .6 * s, y - .05 * s, x + .6 * s, y + .05 * s), fill=(90, 90, 90))
    for side in (-1, 1):
        d.rounded_rectangle(sorted_box(x + side * .3 * s, y - .28 * s, x + side * .44 * s, y + .28 * s),
                            radius=.03 * s, fill=c)
        d.rounded_rectangle(sorted_box(x + side * .46 * s, y - .19 * s, x + side * .56 * s, y + .19 * s),
                            radius=.03 * s, fill=c)


def _vase(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    d.ellipse((x - .42 * s, y - .12 * s, x + .42 * s, y + .58 * s), fill=c)
    d.rectangle((x - .15 * s, y - .45 * s, x + .15 * s, y), fill=c)
    d.ellipse((x - .24 * s, y - .54 * s, x + .24 * s, y - .4 * s), fill=(90, 45, 20))
    d.arc((x - .3 * s, y + .05 * s, x + .3 * s, y + .4 * s), 20, 160, fill=(255, 240, 220), width=int(.03 * s))


def _teacup(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    d.ellipse((x - .58 * s, y + .3 * s, x + .58 * s, y + .52 * s), fill=(235, 235, 225))
    d.arc((x + .22 * s, y - .12 * s, x + .6 * s, y + .22 * s), 270, 90, fill=c, width=int(.07 * s))
    d.pieslice((x - .42 * s, y - .38 * s, x + .42 * s, y + .46 * s), 0, 180, fill=c)
    for dx in (-.18, 0, .18):
        d.arc((x + (dx - .06) * s, y - .62 * s, x + (dx + .06) * s, y - .2 * s), 100, 260,
              fill=(150, 150, 150), width=int(.025 * s))


def _stones(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    for half, top, bottom in ((.52, .24, .56), (.4, -.02, .27), (.28, -.26, .0), (.16, -.46, -.25)):
        d.ellipse((x - half * s, y + top * s, x + half * s, y + bottom * s), fill=c, outline=(255, 255, 255),
                  width=int(.015 * s))


def _hanger(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    width = int(.06 * s)
    d.arc((x - .12 * s, y - .6 * s, x + .12 * s, y - .36 * s), 180, 90, fill=c, width=width)
    d.line([(x, y - .36 * s), (x - .6 * s, y + .25 * s), (x + .6 * s, y + .25 * s), (x, y - .36 * s)], fill=c,
           width=width, joint="curve")


def _balloons(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    knot = (x, y + .6 * s)
    for dx, dy, color in ((-.28, -.2, c), (.28, -.25, (60, 130, 200)), (0, -.45, (240, 190, 40))):
        cx, cy = x + dx * s, y + dy * s
        d.line([(cx, cy + .2 * s), knot], fill=(110, 110, 110), width=int(.015 * s))
        d.ellipse((cx - .18 * s, cy - .22 * s, cx + .18 * s, cy + .22 * s), fill=color)


def _star(d: ImageDraw.ImageDraw, x: float, y: float, s: float, c: Color) -> None:
    points = [(x + (.55 if i % 2 == 0 else .22) * s * math.sin(i * math.pi / 5),
               y - (.55 if i % 2 == 0 else .22) * s * math.cos(i * math.pi / 5)) for i in range(10)]
    d.polygon(points, fill=c)


def sorted_box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


GLYPHS: dict[str, Callable[[ImageDraw.ImageDraw, float, float, float, Color], None]] = {
    Category.BEAUTY: _lipstick, Category.FITNESS: _dumbbell, Category.CLASS: _vase, Category.FOOD: _teacup,
    Category.WELLNESS: _stones, Category.FASHION: _hanger, Category.FAMILY: _balloons, Category.OTHER: _star,
}


def draw_scene(category: str, index: int) -> Image.Image:
    """Scene ``index`` of a category: its colours at a different angle, circles and badge place."""
    light, dark, ink = PALETTES[category]
    rng = random.Random(f"{category}:{index}")
    image = _gradient(light, dark, angle=index * 72 + rng.uniform(-20, 20))
    draw = ImageDraw.Draw(image, "RGBA")  # translucent fills blend into the picture
    _bokeh(draw, rng, (255, 255, 255))
    radius = rng.randint(150, 190)
    x = SIZE[0] * rng.choice((.3, .5, .7)) + rng.uniform(-30, 30)
    y = SIZE[1] * .45 + rng.uniform(-30, 30)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255))
    GLYPHS[category](draw, x, y, radius * 1.05, ink)
    draw.rectangle((0, SIZE[1] - 84, SIZE[0], SIZE[1]), fill=tuple(int(v * .8) for v in dark))
    draw.text((36, SIZE[1] - 42), category_names(category)[0], font=_font(40), fill=(255, 255, 255), anchor="lm")
    return image


def draw_shopfront(index: int) -> Image.Image:
    """Shop front ``index``: a wall, a striped awning, a window, a door and a sign."""
    rng = random.Random(f"shopfront:{index}")
    palette = list(PALETTES.values())[index % len(PALETTES)]
    image = _gradient((200, 225, 245), (245, 245, 250), angle=0)
    draw = ImageDraw.Draw(image)
    wall = tuple(min(255, v + 40) for v in palette[0])
    draw.rectangle((60, 120, 900, 600), fill=wall)
    draw.rectangle((0, 590, SIZE[0], SIZE[1]), fill=(150, 150, 150))
    draw.rectangle((140, 140, 820, 220), fill=palette[2])
    draw.text((480, 180), SIGNS[index % len(SIGNS)], font=_font(48), fill=(255, 255, 255), anchor="mm")
    stripe = 680 / 10
    for n in range(10):
        color = palette[1] if n % 2 == 0 else (255, 255, 255)
        draw.polygon([(140 + n * stripe, 240), (140 + (n + 1) * stripe, 240), (130 + (n + 1) * stripe, 320),
                      (130 + n * stripe, 320)], fill=color)
        draw.pieslice((130 + n * stripe, 300, 130 + (n + 1) * stripe, 340), 0, 180, fill=color)
    draw.rectangle((150, 350, 520, 560), fill=(170, 205, 225), outline=palette[2], width=8)
    draw.line([(335, 350), (335, 560)], fill=palette[2], width=6)
    door = rng.choice((600, 620, 640))
    draw.rectangle((door, 350, door + 160, 590), fill=palette[2])
    draw.ellipse((door + 125, 460, door + 145, 480), fill=(230, 200, 90))
    for _ in range(3):  # plants by the window
        px = rng.randint(160, 500)
        draw.ellipse((px - 28, 520, px + 28, 576), fill=(60, 140, 70))
    return image


@cache
def scene(category: str, index: int) -> images.Processed:
    return images.resize(draw_scene(category, index))


@cache
def shopfront(index: int) -> images.Processed:
    return images.resize(draw_shopfront(index))


def _pick(text: str, count: int) -> int:
    return zlib.crc32(text.encode()) % count


def _offering_pictures(offering: Offering, gallery: bool) -> list[tuple[images.Processed, str]]:
    first = _pick(offering.title, SCENES)
    alt = f"An illustration of {WHAT[offering.category]} for {category_names(offering.category)[0].lower()}"
    return [(scene(offering.category, (first + n) % SCENES), alt) for n in range(GALLERY if gallery else 1)]


def _store_pictures(store: Store, gallery: bool) -> list[tuple[images.Processed, str]]:
    first = _pick(store.name, SHOPFRONTS)
    return [(shopfront((first + n) % SHOPFRONTS), "An illustration of a shop front with a striped awning")
            for n in range(GALLERY if gallery else 1)]


def add_demo_photos(businesses: Select, gallery_business_id: int | None = None) -> int:
    """Give every experience and store of ``businesses`` (a SELECT of business ids) that has no photo a
    picture; those of ``gallery_business_id`` get a gallery of GALLERY. Returns how many photos were added.

    Idempotent: a second run adds nothing, and only writes files that went missing.
    """
    stores = list(db.session.scalars(
        select(Store).where(Store.business_id.in_(businesses), ~exists().where(Photo.store_id == Store.id))
        .order_by(Store.id)))
    offerings = list(db.session.scalars(
        select(Offering).join(Store, Offering.store_id == Store.id)
        .where(Store.business_id.in_(businesses), ~exists().where(Photo.offering_id == Offering.id))
        .order_by(Offering.id)))
    wanted = [(store, _store_pictures(store, store.business_id == gallery_business_id)) for store in stores]
    wanted += [(offering, _offering_pictures(offering, offering.store.business_id == gallery_business_id))
               for offering in offerings]
    settings = media_settings()
    rows: dict[str, StoredImage] = {}
    added = 0
    for owner, pictures in wanted:
        for position, (processed, alt) in enumerate(pictures):
            image = rows.get(processed.digest) or _image_row(processed, settings)
            rows[processed.digest] = image
            photo = Photo(image=image, position=position, alt_text=alt)
            if isinstance(owner, Offering):
                photo.offering_id = owner.id
            else:
                photo.store_id = owner.id
            db.session.add(photo)
            added += 1
    _restore_missing_files(businesses, settings.upload_dir)
    db.session.flush()
    return added


def _image_row(processed: images.Processed, settings: MediaSettings) -> StoredImage:
    """The demo picture's row: the one already stored for this content, or a new one."""
    existing = db.session.scalar(select(StoredImage).where(StoredImage.digest == processed.digest).limit(1))
    return existing or save_processed(processed, uploaded_by=None, settings=settings)


def _restore_missing_files(businesses: Select, directory: str) -> None:
    """Write again the demo pictures whose files are gone (an emptied UPLOAD_DIR under an existing city)."""
    of_offerings = select(Photo.image_id).join(Offering, Photo.offering_id == Offering.id).join(
        Store, Offering.store_id == Store.id).where(Store.business_id.in_(businesses))
    of_stores = select(Photo.image_id).join(Store, Photo.store_id == Store.id).where(
        Store.business_id.in_(businesses))
    stored = db.session.execute(select(StoredImage.digest, StoredImage.widths).where(
        StoredImage.id.in_(of_offerings.union(of_stores)))).all()
    folder = Path(directory)
    missing = {digest for digest, widths in stored
               if not all((folder / images.file_name(digest, width)).exists() for width in widths)}
    if not missing:
        return
    every = [scene(category, n) for category in PALETTES for n in range(SCENES)]
    every += [shopfront(n) for n in range(SHOPFRONTS)]
    for processed in every:
        if processed.digest in missing:
            images.write_files(processed, directory)
