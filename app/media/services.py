"""Photo verbs: the one pipeline call that stores an upload (``store_image``), and the galleries of
experiences and stores: add, list, describe, reorder, choose the cover, delete.

Only a store's owner (or a platform admin) changes its photos and its experiences' photos; staff at the
counter do not. Files are written before the commit (their names are hashes: a rolled-back upload leaves
an unreferenced file, never a wrong one) and removed after it (``remove_unused_files``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, func, or_, select

from app.auth.models import User
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.media import images
from app.media.models import MAX_ALT_TEXT, MAX_PHOTOS, MEDIA_URL, Photo, StoredImage
from app.merchants.models import Store
from app.merchants.services import can_manage_store, get_store
from app.offerings.models import Offering
from app.offerings.services import get_offering

Owner = Offering | Store
DEFAULT_WIDTH = 640  # the variant a plain ``src`` names: sharp in a card, small on a phone


@dataclass(frozen=True)
class MediaSettings:
    upload_dir: str
    max_bytes: int
    max_pixels: int


def media_settings() -> MediaSettings:
    """The pipeline's settings from the app's configuration."""
    config = current_app.config
    return MediaSettings(config["UPLOAD_DIR"], config["MAX_PHOTO_BYTES"], config["MAX_PHOTO_PIXELS"])


def store_image(content: bytes, *, uploaded_by: User | None, field: str = "photo",
                settings: MediaSettings | None = None) -> StoredImage:
    """Check, clean, resize and store an upload: its variant files on disk and its ``images`` row (flushed).

    :raises ValidationFailed: ``image_too_large``, ``image_unreadable`` or ``image_too_many_pixels``,
        the details naming ``field``.
    """
    settings = settings or media_settings()
    processed = images.process(content, max_bytes=settings.max_bytes, max_pixels=settings.max_pixels, field=field)
    return save_processed(processed, uploaded_by=uploaded_by, settings=settings)


def store_uploads(uploads: Sequence[tuple[str, bytes | BinaryIO]], *, uploaded_by: User | None,
                  field: str = "photos") -> list[StoredImage]:
    """:func:`store_image` for each (file name, content) upload; a refusal names the file it is about.

    :raises ValidationFailed: as store_image, the message starting with the file's name.
    """
    images = []
    for name, content in uploads:
        try:
            images.append(store_image(content if isinstance(content, bytes) else content.read(),
                                      uploaded_by=uploaded_by, field=field))
        except ValidationFailed as exc:
            if not name:
                raise
            message = _("“%(name)s” %(problem)s", name=name, problem=exc.details[field][0])
            raise ValidationFailed(message, code=exc.code, details={field: [message]}) from None
    return images


def save_processed(processed: images.Processed, *, uploaded_by: User | None,
                   settings: MediaSettings | None = None) -> StoredImage:
    """Write a processed image's files and add its ``images`` row (flushed)."""
    settings = settings or media_settings()
    images.write_files(processed, settings.upload_dir)
    image = StoredImage(digest=processed.digest, width=processed.width, height=processed.height,
                        widths=[variant.width for variant in processed.variants],
                        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None)
    db.session.add(image)
    db.session.flush()
    return image


# -- what pages and the API show ------------------------------------------------------------------------

def picture(digest: str, widths: Sequence[int], width: int, height: int, alt: str = "") -> dict:
    """A picture as JSON and templates use it: a default ``url``, a ``srcset`` of every variant, the widest
    variant's ``width`` and ``height`` (for the aspect ratio), and the ``alt`` text."""
    widest = widths[-1]
    default = next((w for w in widths if w >= DEFAULT_WIDTH), widest)
    return {
        "url": MEDIA_URL + images.file_name(digest, default),
        "srcset": ", ".join(f"{MEDIA_URL}{images.file_name(digest, w)} {w}w" for w in widths),
        "width": widest, "height": max(1, round(height * widest / width)), "alt": alt,
    }


def photo_picture(photo: Photo) -> dict:
    image = photo.image
    return picture(image.digest, image.widths, image.width, image.height, photo.alt_text)


def cover_column(owner_id: ColumnElement, *, of: str = "offering") -> ColumnElement:
    """SQL: the cover of each row's gallery as one JSON value (NULL without photos), for list queries.

    A correlated subquery on the gallery's (owner, position) index: one index probe per row shown, no join
    that multiplies rows. Turn a value into a picture with ``cover_picture``.
    """
    owner_column = Photo.offering_id if of == "offering" else Photo.store_id
    return (
        select(func.jsonb_build_array(StoredImage.digest, StoredImage.widths, StoredImage.width,
                                      StoredImage.height, Photo.alt_text))
        .select_from(Photo).join(StoredImage, Photo.image_id == StoredImage.id)
        .where(owner_column == owner_id)
        .order_by(Photo.position, Photo.id).limit(1)
        .scalar_subquery()
    )


def cover_picture(value: list | None) -> dict | None:
    """The picture of a ``cover_column`` value."""
    if value is None:
        return None
    digest, widths, width, height, alt = value
    return picture(digest, widths, width, height, alt)


def cover_of(owner: Owner) -> dict | None:
    """The picture of an experience's or a store's cover, or None."""
    photos = owner.photos
    return photo_picture(photos[0]) if photos else None


def photo_json(photo: Photo) -> dict:
    """A gallery photo for the API."""
    image = photo.image
    return {
        "id": photo.id, "position": photo.position, "is_cover": photo.position == 0, "alt_text": photo.alt_text,
        **{key: value for key, value in photo_picture(photo).items() if key != "alt"},
        "variants": [{"width": w, "height": image.height_at(w), "url": image.url(w)} for w in image.widths],
        "created_at": photo.created_at,
    }


# -- galleries ----------------------------------------------------------------------------------------------

def _owner_filter(owner: Owner) -> ColumnElement:
    return Photo.offering_id == owner.id if isinstance(owner, Offering) else Photo.store_id == owner.id


def gallery(owner: Owner) -> list[Photo]:
    """The photos of an experience or a store, the cover first."""
    return list(db.session.scalars(select(Photo).where(_owner_filter(owner)).order_by(Photo.position, Photo.id)))


def get_owner(actor: User | None, kind: str, owner_id: int, *, manage: bool = False) -> Owner:
    """The experience (``kind`` "offering") or store whose gallery the actor may see, or with ``manage`` change.

    :raises NotFound: when it does not exist or is hidden from the actor.
    :raises PermissionDenied: when ``manage`` and the actor does not own the store (staff do not).
    """
    if kind == "offering":
        return get_offering(actor, owner_id, manage=manage)
    return get_store(actor, owner_id, manage=manage)


def get_photo(actor: User | None, photo_id: int, *, manage: bool = False) -> Photo:
    """A photo the actor may see, or with ``manage`` change.

    :raises NotFound: when it does not exist or its gallery is hidden from the actor.
    :raises PermissionDenied: when ``manage`` and the actor does not own the store.
    """
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(_("No such photo."))
    if photo.offering_id is not None:
        get_owner(actor, "offering", photo.offering_id, manage=manage)
    else:
        get_owner(actor, "store", photo.store_id, manage=manage)
    return photo


def _authorize(actor: User | None, owner: Owner) -> None:
    store = owner.store if isinstance(owner, Offering) else owner
    if not can_manage_store(actor, store):
        raise PermissionDenied(_("Only the store's owner can change its photos."))


def _lock(owner: Owner) -> list[Photo]:
    """Hold the gallery's owner row until the commit (one change at a time); return the gallery."""
    db.session.execute(select(type(owner).id).where(type(owner).id == owner.id).with_for_update())
    return gallery(owner)


def _clean_alt(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_ALT_TEXT:
        raise ValidationFailed(_("The description (alt text) must be at most %(max)d characters.", max=MAX_ALT_TEXT),
                               details={"alt_text": [_("must be at most %(max)d characters.", max=MAX_ALT_TEXT)]})
    return text


def _renumber(photos: list[Photo]) -> None:
    for position, photo in enumerate(photos):
        photo.position = position


def add_photos(actor: User, owner: Owner, uploads: Sequence[tuple[str, bytes | BinaryIO]], *,
               alt_text: str | None = "", field: str = "photo") -> list[Photo]:
    """Add uploads, (file name, content) pairs, to the end of a gallery (an empty gallery's first is its cover).

    :raises PermissionDenied: unless the actor owns the store (or is an admin).
    :raises Conflict: ``too_many_photos`` when the gallery would hold more than MAX_PHOTOS.
    :raises ValidationFailed: when an upload is refused by the pipeline (nothing is added then; the message
        names the file), or the alt text is too long.
    """
    _authorize(actor, owner)
    alt_text = _clean_alt(alt_text)
    if not uploads:
        raise ValidationFailed(_("Choose at least one photo."), details={field: [_("is required: choose a photo.")]})
    photos = _lock(owner)
    if len(photos) + len(uploads) > MAX_PHOTOS:
        left = MAX_PHOTOS - len(photos)
        message = (_("A gallery holds at most %(limit)d photos (the cover and %(more)d more); there is room for "
                     "%(left)d more.", limit=MAX_PHOTOS, more=MAX_PHOTOS - 1, left=left) if left else
                   _("A gallery holds at most %(limit)d photos (the cover and %(more)d more); delete one to add "
                     "another.", limit=MAX_PHOTOS, more=MAX_PHOTOS - 1))
        raise Conflict(message,
                       code="too_many_photos", details={"limit": MAX_PHOTOS, "photos": len(photos)})
    added = []
    for name, content in uploads:
        try:
            image = store_image(content if isinstance(content, bytes) else content.read(), uploaded_by=actor,
                                field=field)
        except ValidationFailed as exc:
            if not name:
                raise
            message = _("“%(name)s” %(problem)s", name=name, problem=exc.details[field][0])
            raise ValidationFailed(message, code=exc.code, details={field: [message]}) from None
        photo = Photo(image=image, alt_text=alt_text, position=len(photos) + len(added))
        if isinstance(owner, Offering):
            photo.offering_id = owner.id
        else:
            photo.store_id = owner.id
        db.session.add(photo)
        added.append(photo)
    db.session.flush()
    _expire_gallery(owner)
    return added


def _expire_gallery(owner: Owner) -> None:
    db.session.expire(owner, ["photos"])


def describe_photo(actor: User, photo: Photo, alt_text: str | None) -> Photo:
    """Set a photo's alt text (what a screen reader says; empty means the experience's title).

    :raises PermissionDenied: unless the actor owns the store.
    :raises ValidationFailed: when it is longer than MAX_ALT_TEXT.
    """
    _authorize(actor, photo.owner)
    photo.alt_text = _clean_alt(alt_text)
    db.session.flush()
    return photo


def reorder_photos(actor: User, owner: Owner, photo_ids: Sequence[int]) -> list[Photo]:
    """Put a gallery in the given order; the first becomes the cover.

    :raises PermissionDenied: unless the actor owns the store.
    :raises ValidationFailed: unless ``photo_ids`` names each photo of the gallery exactly once.
    """
    _authorize(actor, owner)
    return _reorder(owner, _lock(owner), photo_ids)


def _reorder(owner: Owner, photos: list[Photo], photo_ids: Sequence[int]) -> list[Photo]:
    by_id = {photo.id: photo for photo in photos}
    if sorted(photo_ids) != sorted(by_id):
        raise ValidationFailed(details={"photo_ids": [
            _("must list each of this gallery's %(count)d photos exactly once: %(ids)s.", count=len(by_id),
              ids=sorted(by_id))]})
    ordered = [by_id[photo_id] for photo_id in photo_ids]
    _renumber(ordered)
    db.session.flush()
    _expire_gallery(owner)
    return ordered


def move_photo(actor: User, photo: Photo, steps: int) -> list[Photo]:
    """Move a photo ``steps`` places later (negative: earlier) in its gallery; position 0 is the cover.

    :raises PermissionDenied: unless the actor owns the store.
    """
    owner = photo.owner
    _authorize(actor, owner)
    photos = _lock(owner)
    order = [p.id for p in photos if p.id != photo.id]
    order.insert(min(max(photos.index(photo) + steps, 0), len(order)), photo.id)
    return _reorder(owner, photos, order)


def make_cover(actor: User, photo: Photo) -> list[Photo]:
    """Make a photo its gallery's cover; the others keep their order after it.

    :raises PermissionDenied: unless the actor owns the store.
    """
    return move_photo(actor, photo, -MAX_PHOTOS)  # to the front


def delete_photo(actor: User, photo: Photo) -> list[tuple[str, list[int]]]:
    """Take a photo out of its gallery; return the files no longer used (remove them after the commit).

    :raises PermissionDenied: unless the actor owns the store.
    """
    owner = photo.owner
    _authorize(actor, owner)
    photos = _lock(owner)
    image = photo.image
    db.session.delete(photo)
    db.session.flush()
    _renumber([p for p in photos if p.id != photo.id])
    db.session.flush()
    _expire_gallery(owner)
    return release_image(image)


def _references(image_id: int) -> ColumnElement:
    """SQL: some row still links to the image (any table whose foreign key points at images)."""
    links = [exists().where(key.parent == image_id)
             for table in db.metadata.tables.values() for key in table.foreign_keys
             if key.column.table.name == StoredImage.__tablename__]
    return or_(*links)


def release_image(image: StoredImage) -> list[tuple[str, list[int]]]:
    """Delete an image's row when nothing links to it any more; return its files to remove after the commit."""
    if db.session.scalar(select(_references(image.id))):
        return []
    db.session.delete(image)
    db.session.flush()
    return [(image.digest, list(image.widths))]


def remove_unused_files(released: Sequence[tuple[str, list[int]]], settings: MediaSettings | None = None) -> None:
    """Delete released images' files (call after the commit), unless another row uses the same content."""
    settings = settings or media_settings()
    for digest, widths in released:
        if db.session.scalar(select(StoredImage.id).where(StoredImage.digest == digest).limit(1)) is None:
            images.remove_files(digest, widths, settings.upload_dir)
