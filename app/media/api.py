"""Photo endpoints: the galleries of experiences and stores (list, upload one photo per request as
multipart/form-data, reorder, describe, delete)."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, DateTime, File, Integer, List, Nested, String
from apiflask.validators import Length, Range

from app.auth.security import actor, api_auth
from app.db import MAX_ID
from app.extensions import db
from app.fields import WholeNumber
from app.media import services
from app.media.models import MAX_ALT_TEXT, MAX_PHOTOS

bp = APIBlueprint("media_api", __name__, url_prefix="/api/v1", tag="Photos")

READ_ERRORS = {404: "not_found"}
WRITE_ERRORS = {403: "forbidden", 404: "not_found"}
UPLOAD_ERRORS = {**WRITE_ERRORS, 409: "too_many_photos", 413: "image_too_large (or the whole request is too large)",
                 422: "image_unreadable, image_too_many_pixels or validation_failed"}


class Picture(Schema):
    """A photo where lists and maps show one: the cover."""

    url = String(metadata={"description": "The variant closest to 640 pixels wide, for a plain src."})
    srcset = String(metadata={"description": "Every variant with its width, for <img srcset> (with sizes)."})
    width = Integer(metadata={"description": "Of the widest variant (with height: the aspect ratio)."})
    height = Integer()
    alt = String(metadata={"description": "Alt text; empty means the title says it."})


class PhotoVariant(Schema):
    width = Integer()
    height = Integer()
    url = String()


class PhotoOut(Schema):
    id = Integer()
    position = Integer(metadata={"description": "0 is the cover."})
    is_cover = Boolean()
    alt_text = String(metadata={"description": "What the photo shows, for screen readers; empty: the title."})
    url = String(metadata={"description": "The variant closest to 640 pixels wide (for a plain src)."})
    srcset = String(metadata={"description": "Every variant, for an <img srcset>: \"/media/….jpg 320w, …\"."})
    width = Integer(metadata={"description": "Of the widest variant."})
    height = Integer()
    variants = List(Nested(PhotoVariant))
    created_at = DateTime()


class PhotoList(Schema):
    items = List(Nested(PhotoOut))


class PhotoUpload(Schema):
    photo = File(required=True, metadata={"description": (
        "A JPEG, PNG or WebP image (decided by decoding it, whatever its name or type says), at most "
        "MAX_PHOTO_BYTES (8 MB) and MAX_PHOTO_PIXELS (40 megapixels). It is turned upright, stripped of all "
        "metadata (EXIF, GPS) and stored as JPEGs 320, 640 and 1280 pixels wide (narrower images: their own "
        "width).")})
    alt_text = String(validate=Length(max=MAX_ALT_TEXT))


class PhotoPatch(Schema):
    alt_text = String(required=True, validate=Length(max=MAX_ALT_TEXT))


class PhotoOrder(Schema):
    photo_ids = List(WholeNumber(validate=Range(1, MAX_ID)), required=True, validate=Length(max=MAX_PHOTOS),
                     metadata={"description": "Every photo of the gallery once, in the new order; the first "
                                              "becomes the cover."})


def _gallery_endpoints(kind: str, segment: str, param: str, what: str) -> None:
    """List, upload and reorder for one kind of gallery: /api/v1/<segment>/{<param>}/photos[/order]."""
    path = f"/{segment}/<int:{param}>/photos"
    reorder_errors = {**WRITE_ERRORS, 422: "validation_failed: photo_ids is not this gallery's photos"}

    def list_photos(**ids) -> dict:
        owner = services.get_owner(actor(), kind, ids[param])
        return {"items": [services.photo_json(photo) for photo in services.gallery(owner)]}

    def upload_photo(body, **ids) -> dict:
        owner = services.get_owner(actor(), kind, ids[param], manage=True)
        upload = body["photo"]
        (photo,) = services.add_photos(actor(), owner, [(upload.filename or "", upload.stream)],
                                       alt_text=body.get("alt_text"))
        db.session.commit()
        return services.photo_json(photo)

    def reorder_photos(body, **ids) -> dict:
        owner = services.get_owner(actor(), kind, ids[param], manage=True)
        photos = services.reorder_photos(actor(), owner, body["photo_ids"])
        db.session.commit()
        return {"items": [services.photo_json(photo) for photo in photos]}

    list_photos.__doc__ = f"{what}'s photos, the cover first."
    upload_photo.__doc__ = f"Add a photo to {what.lower()} (the caller owns the store; staff may not); the first " \
                           "one is the cover."
    reorder_photos.__doc__ = f"Order {what.lower()}'s photos; the first becomes the cover."
    for view, name in ((list_photos, f"list_{kind}_photos"), (upload_photo, f"upload_{kind}_photo"),
                       (reorder_photos, f"reorder_{kind}_photos")):
        view.__name__ = view.__qualname__ = name
    bp.get(path, endpoint=list_photos.__name__)(bp.output(PhotoList)(bp.doc(responses=READ_ERRORS)(list_photos)))
    bp.post(path, endpoint=upload_photo.__name__)(bp.auth_required(api_auth)(
        bp.input(PhotoUpload, location="form_and_files", arg_name="body")(
            bp.output(PhotoOut, status_code=201)(bp.doc(responses=UPLOAD_ERRORS)(upload_photo)))))
    bp.put(f"{path}/order", endpoint=reorder_photos.__name__)(bp.auth_required(api_auth)(
        bp.input(PhotoOrder, arg_name="body")(bp.output(PhotoList)(bp.doc(responses=reorder_errors)(reorder_photos)))))


_gallery_endpoints("offering", "offerings", "offering_id", "An experience")
_gallery_endpoints("store", "stores", "store_id", "A store")


@bp.patch("/photos/<int:photo_id>")
@bp.auth_required(api_auth)
@bp.input(PhotoPatch, arg_name="body")
@bp.output(PhotoOut)
@bp.doc(responses=WRITE_ERRORS)
def update_photo(photo_id: int, body):
    """Describe a photo (its alt text)."""
    photo = services.get_photo(actor(), photo_id, manage=True)
    services.describe_photo(actor(), photo, body["alt_text"])
    db.session.commit()
    return services.photo_json(photo)


@bp.delete("/photos/<int:photo_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses=WRITE_ERRORS)
def delete_photo(photo_id: int):
    """Delete a photo; the next one becomes the cover if it was."""
    photo = services.get_photo(actor(), photo_id, manage=True)
    released = services.delete_photo(actor(), photo)
    db.session.commit()
    services.remove_unused_files(released)
    return ""
