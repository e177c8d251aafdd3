"""The demo city's pictures: drawn locally on the first load, on every experience and store, galleries for the
demo studio, nothing added by a second load, and files that went missing written again."""

from __future__ import annotations

import time

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.demo import DEMO_BUSINESS_NAME, load_demo_city
from app.media import demo as demo_pictures
from app.media.images import file_name
from app.media.models import Photo, StoredImage
from app.merchants.models import Business, Store
from app.offerings.models import Offering


def _count(db, statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery()))


@pytest.mark.demo_city
def test_every_demo_experience_and_store_has_pictures_drawn_here(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    started = time.monotonic()
    load_demo_city()
    took = time.monotonic() - started

    bare_offerings = select(Offering.id).where(~Offering.id.in_(select(Photo.offering_id).where(
        Photo.offering_id.is_not(None))))
    bare_stores = select(Store.id).where(~Store.id.in_(select(Photo.store_id).where(Photo.store_id.is_not(None))))
    assert _count(db, bare_offerings) == 0 and _count(db, bare_stores) == 0
    images = db.session.execute(select(StoredImage.digest, StoredImage.widths)).all()
    assert len(images) <= len(demo_pictures.PALETTES) * demo_pictures.SCENES + demo_pictures.SHOPFRONTS
    for digest, widths in images:
        assert widths == [320, 640, 960]
        assert all((tmp_path / file_name(digest, width)).exists() for width in widths)
    with Image.open(tmp_path / file_name(*images[0][:1], 960)) as picture:
        assert picture.size == (960, 640) and picture.format == "JPEG"

    studio = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS_NAME))
    for store in studio.stores:
        assert len(store.photos) == demo_pictures.GALLERY
        offerings = db.session.scalars(select(Offering).where(Offering.store_id == store.id)).all()
        assert offerings and all(len(o.photos) == demo_pictures.GALLERY for o in offerings)
        assert all(o.photos[0].alt_text.startswith("An illustration of ") for o in offerings)
    print(f"demo city with pictures: {took:.1f} s")  # for scale; the pictures are drawn once per process


@pytest.mark.demo_city
def test_a_second_load_adds_nothing_and_restores_missing_files(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    load_demo_city()
    photos, images = _count(db, select(Photo.id)), _count(db, select(StoredImage.id))
    digest, widths = db.session.execute(select(StoredImage.digest, StoredImage.widths).limit(1)).one()
    gone = tmp_path / file_name(digest, widths[-1])
    gone.unlink()

    load_demo_city()

    assert (_count(db, select(Photo.id)), _count(db, select(StoredImage.id))) == (photos, images)
    assert gone.exists()
