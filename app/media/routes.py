"""Photo pages: the stored files (immutable, cached for a year), and the photo manager's forms on the
owner's experience and store edit pages (upload several, describe, reorder, choose the cover, delete)."""

from __future__ import annotations

import re

from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.auth.security import actor
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.media import services
from app.media.images import DIGEST_CHARS, EXTENSION
from app.media.models import MAX_PHOTOS
from app.offerings.models import Offering

bp = Blueprint("media", __name__)

YEAR = 365 * 24 * 3600
FILE_NAME = re.compile(rf"[0-9a-f]{{{DIGEST_CHARS}}}-[0-9]{{1,5}}\.{EXTENSION}")
# Endpoints that take photo files: their requests may be as large as a full gallery of them.
UPLOAD_ENDPOINTS = {"media.upload_offering_photos", "media.upload_store_photos", "offerings.new",
                    "media_api.upload_offering_photo", "media_api.upload_store_photo"}
FORM_OVERHEAD = 64 * 1024
PHOTO_UPLOADS = "onsite.photo_uploads"  # app.extensions: endpoint -> how many photos its requests may carry


def allow_photo_uploads(app: Flask, endpoints, photos: int) -> None:
    """Let requests to ``endpoints`` be as large as ``photos`` photos and their form, above MAX_CONTENT_LENGTH.

    Every package that takes photos declares its endpoints here; one hook (``init_media``) serves them all.
    """
    app.extensions.setdefault(PHOTO_UPLOADS, {}).update(dict.fromkeys(endpoints, photos))


def init_media(app: Flask) -> None:
    """Let photo uploads be larger than other requests (MAX_CONTENT_LENGTH) and offer ``photos_of`` to templates.

    The limit is raised before any other hook reads the body (the CSRF check parses the form).
    """
    allow_photo_uploads(app, UPLOAD_ENDPOINTS, MAX_PHOTOS)
    photos_by_endpoint = app.extensions[PHOTO_UPLOADS]

    def raise_upload_limit() -> None:
        photos = photos_by_endpoint.get(request.endpoint)
        if photos is not None:
            request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0,
                                             current_app.config["MAX_PHOTO_BYTES"] * photos + FORM_OVERHEAD)

    app.before_request_funcs.setdefault(None, []).insert(0, raise_upload_limit)
    app.jinja_env.globals.update(cover_of=services.cover_of, photo_picture=services.photo_picture,
                                 MAX_PHOTOS=MAX_PHOTOS)


@bp.get("/media/<name>")
def media_file(name: str):
    """A stored variant: its name is a hash of its bytes, so it never changes and may be cached for good."""
    if not FILE_NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(current_app.config["UPLOAD_DIR"], name, max_age=YEAR)
    response.cache_control.immutable = True
    return response


def _edit_page(owner) -> str:
    if isinstance(owner, Offering):
        return url_for("offerings.edit", offering_id=owner.id, _anchor="photos")
    return url_for("merchants.edit_store", store_id=owner.id, _anchor="photos")


def _upload(kind: str, owner_id: int):
    owner = services.get_owner(actor(), kind, owner_id, manage=True)
    back = _edit_page(owner)
    files = [(upload.filename, upload.stream) for upload in request.files.getlist("photos") if upload.filename]
    try:
        added = services.add_photos(current_user, owner, files, alt_text=request.form.get("alt_text"),
                                    field="photos")
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(ngettext("Photo added.", "%(num)d photos added.", len(added)), "success")
    return redirect(back)


@bp.post("/merchant/experiences/<int:offering_id>/photos")
@login_required
def upload_offering_photos(offering_id: int):
    return _upload("offering", offering_id)


@bp.post("/merchant/stores/<int:store_id>/photos")
@login_required
def upload_store_photos(store_id: int):
    return _upload("store", store_id)


@bp.post("/merchant/photos/<int:photo_id>/alt")
@login_required
def describe(photo_id: int):
    photo = services.get_photo(actor(), photo_id, manage=True)
    back = _edit_page(photo.owner)
    try:
        services.describe_photo(current_user, photo, request.form.get("alt_text"))
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Description saved."), "success")
    return redirect(back)


@bp.post("/merchant/photos/<int:photo_id>/cover")
@login_required
def make_cover(photo_id: int):
    photo = services.get_photo(actor(), photo_id, manage=True)
    services.make_cover(current_user, photo)
    db.session.commit()
    flash(_("Cover chosen."), "success")
    return redirect(_edit_page(photo.owner))


@bp.post("/merchant/photos/<int:photo_id>/move")
@login_required
def move(photo_id: int):
    photo = services.get_photo(actor(), photo_id, manage=True)
    services.move_photo(current_user, photo, -1 if request.form.get("direction") == "earlier" else 1)
    db.session.commit()
    return redirect(_edit_page(photo.owner))


@bp.post("/merchant/photos/<int:photo_id>/delete")
@login_required
def delete(photo_id: int):
    photo = services.get_photo(actor(), photo_id, manage=True)
    back = _edit_page(photo.owner)
    released = services.delete_photo(current_user, photo)
    db.session.commit()
    services.remove_unused_files(released)
    flash(_("Photo deleted."), "info")
    return redirect(back)
