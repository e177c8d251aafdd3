"""Every stable error code the app answers with: its HTTP status and what it means.

The one registry: ``DomainError`` subclasses and ``code=`` overrides take their status from here,
the error handlers name only codes listed here, and the OpenAPI document lists them all
(``app.errors.document_error_codes``). A test fails when code anywhere raises a code missing here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    http_status: int
    description: str


def _codes(*rows: tuple[str, int, str]) -> dict[str, ErrorCode]:
    return {code: ErrorCode(status, description) for code, status, description in rows}


ERROR_CODES: dict[str, ErrorCode] = _codes(
    # -- any endpoint --------------------------------------------------------------------------
    ("error", 400, "The request could not be completed (no more specific code applies)."),
    ("bad_request", 400, "The request is malformed."),
    ("malformed_json", 400, "The request body is not valid JSON."),
    ("csrf_failed", 400, "A browser-session write came without a valid X-CSRFToken."),
    ("unauthenticated", 401, "Log in or send a bearer token."),
    ("forbidden", 403, "The caller may not do this."),
    ("not_found", 404, "No such thing, or it is hidden from the caller."),
    ("method_not_allowed", 405, "The path does not take this HTTP method."),
    ("conflict", 409, "The request conflicts with the current state."),
    ("payload_too_large", 413, "The upload is larger than allowed."),
    ("unsupported_media_type", 415, "The body is not in a format this endpoint reads."),
    ("validation_failed", 422, "Some fields are not valid; details name each one."),
    ("rate_limited", 429, "Too many attempts; wait for Retry-After seconds."),
    ("internal_error", 500, "Something went wrong on our side."),
    ("database_unavailable", 503, "The database cannot be reached right now; retry after Retry-After seconds."),
    # -- accounts and stores -----------------------------------------------------------------------
    ("invalid_credentials", 401, "The e-mail or password is wrong."),
    ("already_staff", 409, "The person is already staff at this store."),
    ("invitation_expired", 409, "The staff invitation has expired; the store can send a new one."),
    ("invitation_closed", 409, "The staff invitation was accepted, declined or revoked already."),
    ("too_many_businesses", 409, "The account owns as many businesses as one account may (details: limit)."),
    # -- photos (app/media) ------------------------------------------------------------------------
    ("image_too_large", 413, "The image file is larger than the limit (MAX_PHOTO_BYTES; the message says it)."),
    ("image_unreadable", 422, "The file is not a JPEG, PNG or WebP image that decodes (the name is not trusted)."),
    ("image_too_many_pixels", 422, "The image has more pixels than the limit (MAX_PHOTO_PIXELS; the message says it)."),
    ("too_many_photos", 409, "The gallery holds as many photos as allowed (details: limit, photos)."),
    # -- slots and bookings ----------------------------------------------------------------------
    ("slot_not_found", 404, "No such slot."),
    ("slot_full", 409, "The slot has no room left for the party."),
    ("slot_in_past", 409, "The slot has started, or starts inside the experience's minimum notice."),
    ("slot_closed", 409, "The slot is cancelled, or its experience is not open for booking."),
    ("slot_not_over", 409, "A no-show can be marked only once the slot is over."),
    ("already_booked", 409, "The resident already holds a booking in this slot."),
    ("already_waiting", 409, "The resident is already on this slot's waitlist."),
    ("slot_has_room", 409, "The slot still has room: book it instead of waiting."),
    ("seats_free", 409, "The experience has a seat to book now: book it instead of asking to be told."),
    ("same_slot", 409, "The booking is in that slot already."),
    ("past_cutoff", 409, "The free-change cut-off has passed; the booking can no longer be moved."),
    ("invalid_transition", 409, "A booking or dispute in its current state cannot do that."),
    ("code_collision", 409, "No unused booking code could be issued; try again."),
    ("idempotency_key_reused", 422, "The Idempotency-Key came before with a different request."),
    ("idempotency_key_in_use", 409, "A request with this Idempotency-Key is still being processed."),
    # -- check-in (reason codes of a refused check-in) -----------------------------------------
    ("check_in_refused", 409, "The visit cannot be checked in (a more specific reason code is the rule)."),
    ("invalid_code", 404, "The scanned or typed code is malformed, forged, expired, revoked or unknown."),
    ("wrong_store", 403, "The booking is for another store."),
    ("already_checked_in", 409, "The visit is checked in already; details say when, how and by whom."),
    ("cancelled", 409, "The booking was cancelled or declined."),
    ("not_confirmed", 409, "The booking is not confirmed (pending, over, or not upcoming)."),
    ("outside_window", 409, "Not the time for this visit: details give when check-in opens and closes."),
    ("stale_code", 409, "Self check-in: not the code the counter shows right now."),
    ("missing_position", 422, "Self check-in: no position was sent."),
    ("position_too_vague", 409, "Self check-in: the position is less precise than the store's geofence."),
    ("too_far", 409, "Self check-in: the position is outside the store's geofence."),
    ("not_checked_in", 409, "A payment can be recorded only for a visit that is checked in."),
    # -- reviews (trust/services/reviews.py) ------------------------------------------------------
    ("not_reviewable", 409, "Not the caller's visit to review: not checked in, or they work there (details: reason)."),
    ("review_not_open", 409, "The visit is not over yet: reviews open at the slot's end (details: opens_at)."),
    ("review_window_closed", 409, "Reviews close 30 days after the visit's slot ends (details: closed_at)."),
    ("already_reviewed", 409, "The visit has a review already: edit it instead."),
    ("edit_window_closed", 409, "A review can be edited for 7 days after it was written."),
    ("already_replied", 409, "The store has replied to this review already: edit the reply (PUT)."),
    ("no_reply", 409, "There is no reply to edit yet: post one first."),
    ("already_voted", 409, "The caller has marked this review helpful already."),
    ("own_review", 409, "One cannot mark one's own review helpful."),
    ("already_reported", 409, "The caller has reported this review already."),
    # -- disputes and compensation (trust/services/disputes.py) -------------------------------------
    ("not_disputable", 409, "Nothing has happened to this booking that a dispute could be about yet."),
    ("dispute_window_closed", 409, "The 7 days to dispute this visit are over (details: closed_at)."),
    ("already_disputed", 409, "This booking has a dispute already (details: dispute_id)."),
    ("reason_not_applicable", 422, "The dispute reason does not fit what happened to the booking."),
    ("not_overcharged", 422, "The payment recorded at the store is not more than the listed price x party."),
    ("answer_window_closed", 409, "The store's 48 hours to answer are over: the dispute goes to the operator."),
    ("entry_not_owed", 409, "The compensation entry is settled or waived already (details: status)."),
    ("escalation_window_closed", 409,
     "The 14 days to ask Onsite to decide an accepted dispute are over (details: escalate_by)."),
    ("nothing_to_confirm", 409, "No refund, voucher or compensation of this dispute is waiting for confirmation."),
    # -- the operator's console (trust/services/moderation.py) --------------------------------------
    ("already_suspended", 409, "The merchant is suspended already: reinstate it first."),
    ("not_suspended", 409, "The merchant is not suspended: there is nothing to reinstate."),
    ("report_decided", 409, "This review report has been decided already."),
    # -- mystery-shopper audits (trust/services/audits.py) ------------------------------------------
    ("no_eligible_auditor", 409, "No auditor may audit a drawn merchant (owner, staff, or its auditor within a year)."),
    ("audit_decided", 409, "The audit's checklist has been filled already: it passed or failed."),
    ("audit_not_visited", 409, "The auditor has no checked-in visit at the merchant since the audit was scheduled."),
    ("audit_case_closed", 409, "Only a failed audit's open case can be closed, and only once."),
)


def status_of(code: str, default: int) -> int:
    """The HTTP status registered for ``code``, or ``default`` for a code the registry lacks."""
    entry = ERROR_CODES.get(code)
    return entry.http_status if entry else default
