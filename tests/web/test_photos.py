"""Photos over HTTP: the photo manager's pages and the /api/v1 endpoints (who may change a gallery, what is
refused and how), the stored files' cache headers, and where residents see photos (srcset everywhere)."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app import statements as hot
from app.auth.models import Role, User
from app.media import services as media
from app.media.images import file_name
from app.media.models import MAX_PHOTOS, Photo, StoredImage
from app.media.routes import PHOTO_UPLOADS
from app.merchants.models import Store
from app.offerings.models import Offering
from tests import factories as f
from trust.models import MAX_DISPUTE_PHOTOS, MAX_REVIEW_PHOTOS

ACTORS = ["anonymous", "resident", "owner", "other_owner", "staff", "other_staff", "admin"]
MANAGERS = {"owner", "admin"}  # staff at the counter check visitors in; they do not change the shop window


def png(shade: int, size: tuple[int, int] = (900, 600)) -> bytes:
    """A PNG of one colour per ``shade``: each is a different image (and file name)."""
    out = io.BytesIO()
    Image.new("RGB", size, (shade % 256, 90, 200 - shade % 200)).save(out, "PNG")
    return out.getvalue()


PDF_AS_JPEG = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "menu.jpg")


@dataclass
class World:
    users: dict[str, User | None]
    store: Store
    offering: Offering
    photos: list[Photo]  # the offering's two
    store_photo: Photo
    upload_dir: Path


@pytest.fixture
def world(db, app, tmp_path, monkeypatch) -> World:
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    owner = f.create_merchant(email="owner@test.onsite")
    store = f.create_store(f.create_business(owner), name="Owner's store")
    offering = f.create_offering(store, title="Pottery class")
    other_store = f.create_store(f.create_business(f.create_merchant(email="other@test.onsite")))
    users = {
        "anonymous": None,
        "resident": f.create_user(email="resident@test.onsite"),
        "owner": owner,
        "other_owner": other_store.business.owner,
        "staff": f.add_staff(store, f.create_user(email="staff@test.onsite")),
        "other_staff": f.add_staff(other_store, f.create_user(email="otherstaff@test.onsite")),
        "admin": f.create_user(Role.ADMIN, email="admin@test.onsite"),
    }
    photos = media.add_photos(owner, offering, [("wheel.png", png(1)), ("bowl.png", png(2))], alt_text="Clay")
    (store_photo,) = media.add_photos(owner, store, [("front.png", png(3))])
    return World(users, store, offering, photos, store_photo, tmp_path)


def _login(auth, user: User | None) -> dict[str, str]:
    """Log the browser in as ``user``; return bearer headers for the API."""
    if user is None:
        return {}
    assert auth.login(user.email).status_code == 302
    return f.token_for(user)


def _gallery(db, **owner) -> list[tuple[int, int, str]]:
    db.session.expire_all()
    column = Photo.offering_id if "offering" in owner else Photo.store_id
    return db.session.execute(select(Photo.id, Photo.position, Photo.alt_text)
                              .where(column == next(iter(owner.values())).id).order_by(Photo.position)).all()


def _upload_page(auth, path: str, files: list[tuple[bytes, str]], alt: str = ""):
    return auth.post(path, {"photos": [(io.BytesIO(content), name) for content, name in files], "alt_text": alt},
                     content_type="multipart/form-data")


def _upload_api(client, path: str, content: bytes, name: str, headers: dict, alt: str | None = None):
    data = {"photo": (io.BytesIO(content), name), **({"alt_text": alt} if alt is not None else {})}
    return client.post(path, data=data, headers=headers, content_type="multipart/form-data")


# -- who may change a gallery -------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    kind: str  # page or api
    send: Callable[[object, World, dict], object]  # (auth, world, bearer headers) -> response
    state: Callable[[object, World], object]


def _cases() -> list[Case]:
    def offering_gallery(db, w):
        return _gallery(db, offering=w.offering)

    def store_gallery(db, w):
        return _gallery(db, store=w.store)

    first = lambda w: w.photos[0].id  # noqa: E731
    second = lambda w: w.photos[1].id  # noqa: E731
    return [
        Case("upload-offering-page", "page", lambda a, w, h: _upload_page(
            a, f"/merchant/experiences/{w.offering.id}/photos", [(png(10), "new.png")]), offering_gallery),
        Case("upload-store-page", "page", lambda a, w, h: _upload_page(
            a, f"/merchant/stores/{w.store.id}/photos", [(png(11), "new.png")]), store_gallery),
        Case("upload-offering-api", "api", lambda a, w, h: _upload_api(
            a.client, f"/api/v1/offerings/{w.offering.id}/photos", png(12), "new.png", h), offering_gallery),
        Case("upload-store-api", "api", lambda a, w, h: _upload_api(
            a.client, f"/api/v1/stores/{w.store.id}/photos", png(13), "new.png", h), store_gallery),
        Case("describe-page", "page", lambda a, w, h: a.post(
            f"/merchant/photos/{first(w)}/alt", {"alt_text": "A student at the wheel"}), offering_gallery),
        Case("describe-api", "api", lambda a, w, h: a.client.patch(
            f"/api/v1/photos/{first(w)}", json={"alt_text": "A student at the wheel"}, headers=h), offering_gallery),
        Case("cover-page", "page", lambda a, w, h: a.post(f"/merchant/photos/{second(w)}/cover"), offering_gallery),
        Case("move-page", "page", lambda a, w, h: a.post(
            f"/merchant/photos/{first(w)}/move", {"direction": "later"}), offering_gallery),
        Case("reorder-offering-api", "api", lambda a, w, h: a.client.put(
            f"/api/v1/offerings/{w.offering.id}/photos/order", json={"photo_ids": [second(w), first(w)]}, headers=h),
            offering_gallery),
        Case("reorder-store-api", "api", lambda a, w, h: a.client.put(
            f"/api/v1/stores/{w.store.id}/photos/order", json={"photo_ids": []}, headers=h), store_gallery),
        Case("delete-page", "page", lambda a, w, h: a.post(f"/merchant/photos/{first(w)}/delete"), offering_gallery),
        Case("delete-api", "api", lambda a, w, h: a.client.delete(
            f"/api/v1/photos/{w.store_photo.id}", headers=h), store_gallery),
    ]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case_id", [case.id for case in _cases()])
def test_only_the_owner_or_an_admin_changes_photos(db, auth, world, case_id, actor):
    case = next(c for c in _cases() if c.id == case_id)
    headers = _login(auth, world.users[actor])
    before = case.state(db, world)

    response = case.send(auth, world, headers)
    after = case.state(db, world)

    if actor in MANAGERS and case_id != "reorder-store-api":
        assert response.status_code in (200, 201, 204, 302), response.get_data(as_text=True)[:500]
        if case.kind == "page":
            assert response.headers["Location"].endswith("#photos")
        assert after != before, "the write succeeded but nothing changed"
        return
    if actor in MANAGERS:  # reorder-store-api names no photo of a one-photo gallery: refused, for everyone
        assert response.status_code == 422 and response.json["error"]["details"]["photo_ids"]
        return
    assert after == before, f"{actor} changed a gallery with status {response.status_code}"
    if actor == "anonymous":
        if case.kind == "page":
            assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")
        else:
            assert response.status_code == 401 and response.json["error"]["code"] == "unauthenticated"
    else:
        assert response.status_code in (403, 404)
        if case.kind == "api":
            assert response.json["error"]["code"] in ("forbidden", "not_found")


@pytest.mark.parametrize("actor", ["resident", "other_owner", "staff", "other_staff"])
def test_the_photo_manager_is_not_shown_to_others(db, auth, world, actor):
    _login(auth, world.users[actor])
    for path in (f"/merchant/experiences/{world.offering.id}/edit", f"/merchant/stores/{world.store.id}/edit"):
        response = auth.client.get(path)
        assert response.status_code in (403, 404)
        assert 'data-testid="photo-manager"' not in response.get_data(as_text=True)


# -- the photo manager --------------------------------------------------------------------------------------

def _html(response) -> str:
    return response.get_data(as_text=True)


def _flash(auth, response) -> str:
    assert response.status_code == 302
    return unescape(_html(auth.client.get(response.headers["Location"])))


def test_owner_uploads_several_photos_at_once_with_a_description(db, auth, world):
    _login(auth, world.users["owner"])
    response = _upload_page(auth, f"/merchant/experiences/{world.offering.id}/photos",
                            [(png(20), "a.png"), (png(21), "b.jpg")], alt="Glazes on a shelf")

    assert response.headers["Location"] == f"/merchant/experiences/{world.offering.id}/edit#photos"
    page = _flash(auth, response)
    assert "2 photos added." in page
    gallery = _gallery(db, offering=world.offering)
    assert [position for _, position, _ in gallery] == [0, 1, 2, 3]
    assert [alt for _, _, alt in gallery][2:] == ["Glazes on a shelf"] * 2
    manager = page.split('data-testid="photo-manager"')[1]
    assert manager.count('class="photo-row') == 4 and "Cover" in manager and "4 of 9" in manager
    assert manager.count('srcset="/media/') == 4
    image = db.session.get(Photo, gallery[3][0]).image
    assert all((world.upload_dir / file_name(image.digest, w)).exists() for w in image.widths)
    assert image.uploaded_by_id == world.users["owner"].id


def test_store_edit_page_has_its_own_photo_manager(db, auth, world):
    _login(auth, world.users["owner"])
    page = _html(auth.client.get(f"/merchant/stores/{world.store.id}/edit"))
    manager = page.split('data-testid="photo-manager"')[1]
    assert f'action="/merchant/stores/{world.store.id}/photos"' in manager
    assert manager.count('class="photo-row') == 1 and 'enctype="multipart/form-data"' in manager
    assert "1 of 9" in manager


@pytest.mark.parametrize("files, message", [
    ([PDF_AS_JPEG], "“menu.jpg” must be a JPEG, PNG or WebP image"),
    ([(png(30), "ok.png"), PDF_AS_JPEG], "“menu.jpg” must be a JPEG, PNG or WebP image"),
    ([], "Choose at least one photo."),
], ids=["pdf-named-jpg", "one-bad-of-two", "none"])
def test_a_refused_upload_says_why_and_adds_nothing(db, auth, world, files, message):
    _login(auth, world.users["owner"])
    before = _gallery(db, offering=world.offering)

    response = _upload_page(auth, f"/merchant/experiences/{world.offering.id}/photos", files)

    assert message in _flash(auth, response)
    assert _gallery(db, offering=world.offering) == before


def test_a_full_gallery_refuses_more(db, auth, world):
    owner = world.users["owner"]
    media.add_photos(owner, world.offering, [(f"{n}.png", png(40 + n)) for n in range(MAX_PHOTOS - 2)])
    headers = _login(auth, owner)
    assert "The gallery is full" in _html(auth.client.get(f"/merchant/experiences/{world.offering.id}/edit"))

    page = _upload_page(auth, f"/merchant/experiences/{world.offering.id}/photos", [(png(60), "one-more.png")])
    api = _upload_api(auth.client, f"/api/v1/offerings/{world.offering.id}/photos", png(61), "x.png", headers)

    assert "A gallery holds at most 9 photos" in _flash(auth, page)
    assert api.status_code == 409 and api.json["error"]["code"] == "too_many_photos"
    assert api.json["error"]["details"] == {"limit": MAX_PHOTOS, "photos": MAX_PHOTOS}
    assert len(_gallery(db, offering=world.offering)) == MAX_PHOTOS


def test_reorder_choose_the_cover_describe_and_delete_on_the_page(db, auth, world):
    _login(auth, world.users["owner"])
    first, second = (photo.id for photo in world.photos)

    auth.post(f"/merchant/photos/{second}/cover")
    assert [pid for pid, _, _ in _gallery(db, offering=world.offering)] == [second, first]
    auth.post(f"/merchant/photos/{second}/move", {"direction": "later"})
    assert [pid for pid, _, _ in _gallery(db, offering=world.offering)] == [first, second]
    auth.post(f"/merchant/photos/{second}/move", {"direction": "later"})  # already last: stays
    assert [pid for pid, _, _ in _gallery(db, offering=world.offering)] == [first, second]
    too_long = auth.post(f"/merchant/photos/{first}/alt", {"alt_text": "x" * 301})
    assert "must be at most 300 characters" in _flash(auth, too_long)
    auth.post(f"/merchant/photos/{first}/alt", {"alt_text": "  A bowl, still wet  "})
    assert _gallery(db, offering=world.offering)[0][2] == "A bowl, still wet"

    image = db.session.get(Photo, first).image
    files, image_id = [world.upload_dir / file_name(image.digest, w) for w in image.widths], image.id
    assert "Photo deleted." in _flash(auth, auth.post(f"/merchant/photos/{first}/delete"))
    assert _gallery(db, offering=world.offering) == [(second, 0, "Clay")]  # the next one is the cover now
    assert not any(path.exists() for path in files)
    assert db.session.scalar(select(func.count()).select_from(StoredImage).where(StoredImage.id == image_id)) == 0


def test_deleting_a_photo_keeps_files_another_photo_shows(db, auth, world):
    owner = world.users["owner"]
    (twin,) = media.add_photos(owner, world.store, [("same.png", png(1))])  # the same picture as photos[0]
    assert twin.image.digest == world.photos[0].image.digest
    headers = _login(auth, owner)

    assert auth.client.delete(f"/api/v1/photos/{world.photos[0].id}", headers=headers).status_code == 204

    assert all((world.upload_dir / file_name(twin.image.digest, w)).exists() for w in twin.image.widths)


def test_new_experience_form_takes_photos(db, auth, world):
    _login(auth, world.users["owner"])
    form = {"title": "Tea ceremony", "category": "food_tasting", "price_amount": "128", "currency": "CNY",
            "duration_min": "45", "capacity": "6", "cancel_cutoff_hours": "12",
            "photos": [(io.BytesIO(png(70)), "tea.png"), (io.BytesIO(png(71)), "cups.png")]}
    response = auth.post(f"/merchant/stores/{world.store.id}/experiences/new", form,
                         content_type="multipart/form-data")
    assert response.status_code == 302
    offering = db.session.scalar(select(Offering).where(Offering.title == "Tea ceremony"))
    assert len(_gallery(db, offering=offering)) == 2

    refused = auth.post(f"/merchant/stores/{world.store.id}/experiences/new",
                        {**form, "title": "Refused", "photos": [(io.BytesIO(PDF_AS_JPEG[0]), "menu.jpg")]},
                        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "“menu.jpg” must be a JPEG, PNG or WebP image" in unescape(_html(refused))
    assert db.session.scalar(select(Offering).where(Offering.title == "Refused")) is None


# -- the API -----------------------------------------------------------------------------------------------

def test_api_uploads_lists_describes_and_reorders(db, client, world):
    headers = f.token_for(world.users["owner"])
    path = f"/api/v1/offerings/{world.offering.id}/photos"

    created = _upload_api(client, path, png(80, (2000, 1000)), "wide.png", headers, alt="The studio")
    assert created.status_code == 201, created.json
    photo = created.json
    assert photo["position"] == 2 and photo["is_cover"] is False and photo["alt_text"] == "The studio"
    assert [v["width"] for v in photo["variants"]] == [320, 640, 1280]
    assert [v["height"] for v in photo["variants"]] == [160, 320, 640]
    assert photo["url"] == photo["variants"][1]["url"] and (photo["width"], photo["height"]) == (1280, 640)
    assert photo["srcset"] == ", ".join(f"{v['url']} {v['width']}w" for v in photo["variants"])
    assert all(re.fullmatch(r"/media/[0-9a-f]{32}-\d+\.jpg", v["url"]) for v in photo["variants"])

    listed = client.get(path).json["items"]  # public: anyone may look
    assert [item["id"] for item in listed] == [world.photos[0].id, world.photos[1].id, photo["id"]]
    assert listed[0]["is_cover"] is True

    order = [photo["id"], world.photos[0].id, world.photos[1].id]
    reordered = client.put(f"{path}/order", json={"photo_ids": order}, headers=headers)
    assert [item["id"] for item in reordered.json["items"]] == order and reordered.json["items"][0]["is_cover"]
    assert client.get(f"/api/v1/offerings/{world.offering.id}").json["photo"]["url"] == photo["url"]

    wrong = client.put(f"{path}/order", json={"photo_ids": order[:2]}, headers=headers)
    assert wrong.status_code == 422 and "photo_ids" in wrong.json["error"]["details"]
    described = client.patch(f"/api/v1/photos/{photo['id']}", json={"alt_text": "Wheels"}, headers=headers)
    assert described.json["alt_text"] == "Wheels"


@pytest.mark.parametrize("content, name, code, status", [
    (PDF_AS_JPEG[0], "menu.jpg", "image_unreadable", 422),
    (b"", "empty.png", "image_unreadable", 422),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", "image_unreadable", 422),
], ids=["pdf-named-jpg", "empty", "broken-png"])
def test_api_refuses_what_is_not_an_image_with_a_code(db, client, world, content, name, code, status):
    response = _upload_api(client, f"/api/v1/stores/{world.store.id}/photos", content, name,
                           f.token_for(world.users["owner"]))
    assert response.status_code == status
    assert response.json["error"]["code"] == code and name in response.json["error"]["message"]
    assert list(response.json["error"]["details"]) == ["photo"]
    assert len(_gallery(db, store=world.store)) == 1


def test_api_refuses_a_pixel_bomb_and_an_oversized_file(db, app, client, world, monkeypatch):
    from tests.unit.test_image_pipeline import png_declaring

    headers = f.token_for(world.users["owner"])
    path = f"/api/v1/offerings/{world.offering.id}/photos"
    bomb = _upload_api(client, path, png_declaring(60_000, 60_000), "bomb.png", headers)
    assert bomb.status_code == 422 and bomb.json["error"]["code"] == "image_too_many_pixels"

    content = png(90)
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", len(content) - 1)
    big = _upload_api(client, path, content, "big.png", headers)
    assert big.status_code == 413 and big.json["error"]["code"] == "image_too_large"
    assert len(_gallery(db, offering=world.offering)) == 2


def test_upload_requests_may_be_larger_than_other_requests_but_not_without_bound(db, app, client, world,
                                                                                 monkeypatch):
    headers = f.token_for(world.users["owner"])
    path = f"/api/v1/offerings/{world.offering.id}/photos"
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10_000)
    out = io.BytesIO()
    Image.frombytes("RGB", (100, 100), random.Random(1).randbytes(30_000)).save(out, "PNG")  # noise: 30 KB
    content = out.getvalue()
    assert len(content) > 10_000
    assert _upload_api(client, path, content, "fine.png", headers).status_code == 201
    assert client.post("/api/v1/businesses", data=b"x" * 20_000, headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 413  # elsewhere the usual limit holds

    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", 1000)  # an upload request: MAX_PHOTOS of them, and a form
    too_big = _upload_api(client, path, b"\xff" * (MAX_PHOTOS * 1000 + 70 * 1024), "huge.jpg", headers)
    assert too_big.status_code == 413 and too_big.json["error"]["code"] == "payload_too_large"


def test_one_hook_raises_the_upload_limit_for_every_package_that_takes_photos(app):
    photos = app.extensions[PHOTO_UPLOADS]
    assert set(photos) <= {rule.endpoint for rule in app.url_map.iter_rules()}  # a renamed view would lose it
    assert (photos["media_api.upload_offering_photo"], photos["trust_reviews_api.add_photos"],
            photos["trust_disputes.answer"]) == (MAX_PHOTOS, MAX_REVIEW_PHOTOS, MAX_DISPUTE_PHOTOS)
    hooks = [hook for hook in app.before_request_funcs[None]
             if hook.__module__.startswith(("app.media", "trust."))]
    assert [hook.__name__ for hook in hooks] == ["raise_upload_limit"]
    assert app.before_request_funcs[None][0] is hooks[0]  # before the CSRF check reads the form


def test_api_upload_must_be_multipart_with_a_photo(db, client, world):
    headers = f.token_for(world.users["owner"])
    path = f"/api/v1/offerings/{world.offering.id}/photos"
    as_json = client.post(path, json={"photo": "aGVsbG8="}, headers=headers)
    assert as_json.status_code == 415 and as_json.json["error"]["code"] == "unsupported_media_type"
    missing = client.post(path, data={"alt_text": "no file"}, headers=headers, content_type="multipart/form-data")
    assert missing.status_code == 422 and "photo" in missing.json["error"]["details"]
    long_alt = _upload_api(client, path, png(92), "a.png", headers, alt="x" * 301)
    assert long_alt.status_code == 422 and "alt_text" in long_alt.json["error"]["details"]


def test_photos_of_a_hidden_experience_are_hidden(db, client, world):
    archived = f.create_offering(world.store, title="Old class", status="archived")
    media.add_photos(world.users["owner"], archived, [("old.png", png(93))])
    assert client.get(f"/api/v1/offerings/{archived.id}/photos").status_code == 404
    owner = f.token_for(world.users["owner"])
    assert len(client.get(f"/api/v1/offerings/{archived.id}/photos", headers=owner).json["items"]) == 1
    assert client.get("/api/v1/offerings/987654/photos").status_code == 404
    assert client.delete("/api/v1/photos/987654", headers=owner).status_code == 404


# -- the files ----------------------------------------------------------------------------------------------

def test_stored_files_are_served_immutable_for_a_year(db, client, world):
    image = world.photos[0].image
    response = client.get(image.url(image.widths[-1]))

    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(response.data)).size == (900, 600)
    etag = response.headers["ETag"]
    response.close()
    again = client.get(image.url(image.widths[-1]), headers={"If-None-Match": etag})
    assert again.status_code == 304
    again.close()


@pytest.mark.parametrize("path", [
    "/media/../secret_key", "/media/..%2Fsecret_key", "/media/secret_key", "/media/nothing-here.png",
    "/media/" + "0" * 32 + "-640.jpg", "/media/" + "0" * 32 + "-640.jpg.txt", "/uploads/anything.png",
])
def test_media_route_serves_only_stored_variants(db, client, world, path):
    (world.upload_dir / "secret_key").write_text("s3cret")
    assert client.get(path).status_code == 404


# -- where residents see photos -----------------------------------------------------------------------------

def _cover_of(world: World) -> dict:
    return media.photo_picture(world.photos[0])


def test_nearby_in_view_and_offering_apis_carry_the_cover(db, client, world):
    cover = _cover_of(world)
    nearby = client.get("/api/v1/offerings/nearby?lat=30.2460&lng=120.1490&radius_m=500").json["items"]
    item = next(i for i in nearby if i["id"] == world.offering.id)
    assert item["photo"] == {**cover, "alt": "Clay"}
    assert item["photo"]["srcset"].count("w,") == 2 and item["photo"]["url"].endswith("-640.jpg")

    view = client.get("/api/v1/offerings/in-view?min_lng=120.14&min_lat=30.24&max_lng=120.16&max_lat=30.25").json
    feature = next(x for x in view["features"] if x["id"] == world.offering.id)
    assert feature["photo"] == item["photo"]

    detail = client.get(f"/api/v1/offerings/{world.offering.id}").json
    assert detail["photo"] == item["photo"] and detail["cover_image_url"] == cover["url"]


def test_experiences_without_photos_have_none(db, client, world):
    bare = f.create_offering(world.store, title="Bare class")
    nearby = client.get("/api/v1/offerings/nearby?lat=30.2460&lng=120.1490&radius_m=500").json["items"]
    assert next(i for i in nearby if i["id"] == bare.id)["photo"] is None
    assert client.get(f"/api/v1/offerings/{bare.id}").json["photo"] is None
    assert 'data-testid="gallery"' not in _html(client.get(f"/experiences/{bare.id}"))


def test_nearby_stays_one_query_whatever_the_number_of_photos(db, client, world, monkeypatch):
    from sqlalchemy import event

    for n in range(5):
        other = f.create_offering(world.store, title=f"Class {n}")
        media.add_photos(world.users["owner"], other, [(f"{n}.png", png(100 + n))])
    statements: list[str] = []
    engine = db.session.get_bind()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    alone = hot.alone  # the fast path runs its SQL on the driver, unseen by SQLAlchemy's events
    monkeypatch.setattr(hot, "alone", lambda sql, values: statements.append(sql) or alone(sql, values))
    try:
        items = client.get("/api/v1/offerings/nearby?lat=30.2460&lng=120.1490&radius_m=500").json["items"]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sum(1 for item in items if item["photo"]) == 6
    assert sum(1 for s in statements if "FROM photos" in s) == 1  # inside the search itself


def _srcset_imgs(html: str) -> list[str]:
    return re.findall(r"<img [^>]*srcset=\"[^\"]+\"[^>]*>", html)


def test_the_experience_page_shows_a_gallery_with_srcset(db, client, world):
    html = _html(client.get(f"/experiences/{world.offering.id}"))
    gallery = html.split('data-testid="gallery"')[1].split("</main>")[0]
    images = _srcset_imgs(gallery)
    cover = _cover_of(world)
    assert f'srcset="{cover["srcset"]}"' in images[0] and 'sizes="(min-width: 992px) 58vw, 100vw"' in images[0]
    assert 'alt="Clay"' in images[0] and 'fetchpriority="high"' in images[0]
    assert 'width="900" height="600"' in images[0]
    assert 'class="carousel slide"' in gallery and gallery.count("data-bs-slide-to=") == 2


def test_the_store_page_shows_its_photos_and_the_experiences_covers(db, client, world):
    html = _html(client.get(f"/stores/{world.store.id}"))
    store_cover = media.photo_picture(world.store_photo)
    assert f'srcset="{store_cover["srcset"]}"' in html.split('data-testid="gallery"')[1]
    card = html.split(f'data-offering-id="{world.offering.id}"')[1]
    assert f'srcset="{_cover_of(world)["srcset"]}"' in card.split("</div>")[0]
    assert 'class="card-img-top"' in card and 'loading="lazy"' in card


def test_the_explore_page_lists_covers_for_its_script(db, client, world):
    html = _html(client.get("/explore?lat=30.2460&lng=120.1490"))
    initial = json.loads(unescape(re.search(r'id="initial-results">(.*?)</script>', html, re.S).group(1)))
    item = next(i for i in initial["items"] if i["id"] == world.offering.id)
    assert item["photo"]["srcset"] == _cover_of(world)["srcset"]


def test_the_api_documents_the_photo_endpoints(db, client):
    spec = client.get("/openapi.json").json
    upload = spec["paths"]["/api/v1/offerings/{offering_id}/photos"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["requestBody"]["required"] is True
    for status in ("201", "401", "403", "404", "409", "413", "422"):
        assert status in upload["responses"], status
    assert {"/api/v1/stores/{store_id}/photos", "/api/v1/photos/{photo_id}",
            "/api/v1/offerings/{offering_id}/photos/order"} <= set(spec["paths"])
    description = spec["info"]["description"]
    assert all(f"`{code}`" in description for code in ("image_unreadable", "image_too_large",
                                                       "image_too_many_pixels", "too_many_photos"))
    assert body is not None
