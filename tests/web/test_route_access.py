"""One access table for the whole app: every rule and method of ``app.url_map``, for every kind of visitor.

Each row is what eight visitors get from one route, in the order of ACTORS: anonymous, a resident (who holds
the world's bookings), another resident, the store's owner, another owner, staff of the store, staff of another
store, an admin. ``L`` is a redirect to the login page; any other entry is the HTTP status. Pages are opened
with the visitor's logged-in session (posts carry a valid CSRF token and no fields); the API with the visitor's
bearer token (writes send ``{}``). Path parameters come from the world of tests/web/_bookings_world.py: the
resident's booking, the owner's store, business, experience, slot and staff member, the resident's waitlist
entry. Each visitor's request is rolled back before the next one's.

A route that is not in TABLE fails ``test_every_route_is_in_the_table`` with the line to add: add it with
'?', run ``ONSITE_ACCESS_TABLE=print pytest tests/web/test_route_access.py -k '<the rule>'`` to see what each
visitor gets, check every entry is who should get it, and paste the row.
"""

from __future__ import annotations

import os
import re
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import text

from app import clock
from app.conversations.services import save_quick_reply
from app.media.services import add_photos
from tests import factories as f
from tests.web._bookings_world import ACTORS, add_dispute, add_review, build_world
from tests.web._conversations_world import add_conversation

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NO_SUCH_ID = 2**31 - 1  # rows that no world here has (invitations come and go): the route answers "not found"

# fmt: off
TABLE: dict[str, str] = {
    # "METHOD rule": "anonymous resident other_resident owner other_owner staff other_staff admin"
    'DELETE /api/v1/offerings/<int:offering_id>': '401 403 403 204 403 403 403 204',
    'DELETE /api/v1/photos/<int:photo_id>': '401 403 403 204 403 403 403 204',
    'DELETE /api/v1/stores/<int:store_id>/invitations/<int:invitation_id>': '401 403 403 404 403 403 403 404',
    'DELETE /api/v1/stores/<int:store_id>/staff/<int:user_id>': '401 403 403 204 403 403 403 204',
    'DELETE /api/v1/waitlist/<int:entry_id>': '401 204 404 404 404 404 404 404',
    'GET /': '200 200 200 200 200 200 200 200',
    'GET /admin/demand': 'L 403 403 403 403 403 403 200',
    'GET /admin': 'L 403 403 403 403 403 403 200',
    'GET /admin/merchants': 'L 403 403 403 403 403 403 200',
    'GET /admin/merchants/<int:business_id>': 'L 403 403 403 403 403 403 200',
    'GET /admin/queues': 'L 403 403 403 403 403 403 200',
    'GET /admin/audits': 'L 403 403 403 403 403 403 200',
    'POST /admin/audits': 'L 403 403 403 403 403 403 302',
    'GET /audits': 'L 200 200 200 200 200 200 200',  # a list of one's own audits: empty unless an auditor
    'GET /audits/<int:audit_id>': 'L 404 404 404 404 404 404 404',
    'POST /audits/<int:audit_id>': 'L 404 404 404 404 404 404 404',
    'POST /admin/audits/<int:audit_id>/close': 'L 403 403 403 403 403 403 302',
    'GET /api/v1/admin/audits': '401 403 403 403 403 403 403 200',
    'POST /api/v1/admin/audits': '401 422 422 422 422 422 422 422',
    'POST /api/v1/admin/audits/<int:audit_id>/close': '401 422 422 422 422 422 422 422',
    'GET /api/v1/audits': '401 200 200 200 200 200 200 200',
    'GET /api/v1/audits/<int:audit_id>': '401 404 404 404 404 404 404 404',
    'POST /api/v1/audits/<int:audit_id>/checklist': '401 422 422 422 422 422 422 422',
    'POST /admin/merchants/<int:business_id>/<any(verify, unverify, warn, suspend, reinstate):action>': 'L 403 403 403 403 403 403 302',  # noqa: E501
    'POST /admin/review-reports/<int:report_id>': 'L 403 403 403 403 403 403 404',
    'GET /api/v1/admin/merchants': '401 403 403 403 403 403 403 200',
    'GET /api/v1/admin/merchants/<int:business_id>': '401 403 403 403 403 403 403 200',
    'GET /api/v1/admin/queues': '401 403 403 403 403 403 403 200',
    'GET /api/v1/admin/overview': '401 403 403 403 403 403 403 200',
    'GET /api/v1/admin/demand': '401 403 403 403 403 403 403 200',
    'GET /api/v1/insights/stores/<int:store_id>/demand': '401 404 404 200 404 200 404 200',
    'POST /api/v1/admin/merchants/<int:business_id>/verify': '401 422 422 422 422 422 422 422',
    'POST /api/v1/admin/merchants/<int:business_id>/warn': '401 422 422 422 422 422 422 422',
    'POST /api/v1/admin/merchants/<int:business_id>/suspend': '401 422 422 422 422 422 422 422',
    'POST /api/v1/admin/merchants/<int:business_id>/reinstate': '401 422 422 422 422 422 422 422',
    'POST /api/v1/admin/review-reports/<int:report_id>/decide': '401 422 422 422 422 422 422 422',
    'GET /api/v1/bookings': '401 200 200 200 200 200 200 200',
    'GET /api/v1/bookings/<int:booking_id>': '401 200 404 200 404 200 404 200',
    'GET /api/v1/bookings/<int:booking_id>.ics': '401 200 404 200 404 200 404 200',
    'GET /api/v1/bookings/<int:booking_id>/qr': '401 200 404 404 404 404 404 404',
    'GET /api/v1/businesses': '401 200 200 200 200 200 200 200',
    'GET /api/v1/businesses/<int:business_id>/integrity': '200 200 200 200 200 200 200 200',
    'GET /api/v1/businesses/<int:business_id>/ledger': '401 403 403 200 403 403 403 200',
    'GET /api/v1/disputes': '401 200 200 200 200 200 200 200',
    'GET /api/v1/disputes/<int:dispute_id>': '401 200 404 200 404 200 404 200',
    'GET /api/v1/disputes/escalated': '401 403 403 403 403 403 403 200',
    'GET /api/v1/me/compensation': '401 200 200 200 200 200 200 200',
    'GET /api/v1/me/invitations': '401 200 200 200 200 200 200 200',
    'GET /api/v1/merchant/reviews': '401 200 200 200 200 200 200 200',
    'GET /api/v1/notifications': '401 200 200 200 200 200 200 200',
    'GET /api/v1/offerings': '200 200 200 200 200 200 200 200',
    'GET /api/v1/offerings/<int:offering_id>': '200 200 200 200 200 200 200 200',
    'GET /api/v1/offerings/<int:offering_id>/photos': '200 200 200 200 200 200 200 200',
    'GET /api/v1/offerings/<int:offering_id>/reviews': '200 200 200 200 200 200 200 200',
    'GET /api/v1/offerings/<int:offering_id>/slots': '200 200 200 200 200 200 200 200',
    'GET /api/v1/offerings/in-view': '422 422 422 422 422 422 422 422',
    'GET /api/v1/offerings/nearby': '422 422 422 422 422 422 422 422',
    'GET /api/v1/places': '422 422 422 422 422 422 422 422',
    'GET /api/v1/reviews/<int:review_id>': '200 200 200 200 200 200 200 200',
    'GET /api/v1/stores': '200 200 200 200 200 200 200 200',
    'GET /api/v1/stores/<int:store_id>': '200 200 200 200 200 200 200 200',
    'GET /api/v1/stores/<int:store_id>/bookings': '401 404 404 200 404 200 404 200',
    'GET /api/v1/stores/<int:store_id>/checkin-code': '401 404 404 200 404 200 404 200',
    'GET /api/v1/stores/<int:store_id>/disputes': '401 404 404 200 404 200 404 200',
    'GET /api/v1/stores/<int:store_id>/photos': '200 200 200 200 200 200 200 200',
    'GET /api/v1/stores/<int:store_id>/reviews': '200 200 200 200 200 200 200 200',
    'GET /api/v1/stores/<int:store_id>/roster': '401 404 404 200 404 200 404 200',
    'GET /api/v1/stores/<int:store_id>/staff': '401 403 403 200 403 403 403 200',
    'GET /auth/account': 'L 200 200 200 200 200 200 200',
    'GET /auth/login': '200 200 200 200 200 200 200 200',
    'GET /auth/me': 'L 302 302 302 302 302 302 302',
    'GET /auth/register': '200 200 200 200 200 200 200 200',
    'GET /bookings/<int:booking_id>': 'L 200 404 200 404 200 404 200',
    'GET /bookings/<int:booking_id>/dispute': 'L 200 404 403 404 403 404 403',
    'GET /bookings/<int:booking_id>/review': 'L 302 404 404 404 404 404 404',
    'GET /disputes/<int:dispute_id>': 'L 200 404 200 404 200 404 200',
    'GET /docs': '200 200 200 200 200 200 200 200',
    'GET /docs/oauth2-redirect': '200 200 200 200 200 200 200 200',
    'GET /experiences/<int:offering_id>': '200 200 200 200 200 200 200 200',
    'GET /experiences/<int:offering_id>/reviews': '200 200 200 200 200 200 200 200',
    'GET /explore': '200 200 200 200 200 200 200 200',
    'GET /healthz': '200 200 200 200 200 200 200 200',
    'GET /invitations/<token>': 'L 404 404 404 404 404 404 404',
    'GET /me/compensation': 'L 200 200 200 200 200 200 200',
    'GET /me/inbox': 'L 200 200 200 200 200 200 200',
    'GET /me/invitations': 'L 200 200 200 200 200 200 200',
    'GET /me/visits': 'L 200 200 200 200 200 200 200',
    'GET /media/<name>': '404 404 404 404 404 404 404 404',
    'GET /merchant/': 'L 200 200 200 200 200 200 200',
    'GET /merchant/businesses/<int:business_id>/edit': 'L 403 403 200 403 403 403 200',
    'GET /merchant/businesses/<int:business_id>/ledger': 'L 403 403 200 403 403 403 200',
    'GET /merchant/businesses/<int:business_id>/stores/new': 'L 403 403 200 403 403 403 200',
    'GET /merchant/businesses/new': 'L 200 200 200 200 200 200 200',
    'GET /merchant/demand': 'L 404 404 302 302 302 302 302',
    'GET /merchant/experiences/<int:offering_id>/edit': 'L 403 403 200 403 403 403 200',
    'GET /merchant/experiences/<int:offering_id>/schedule': 'L 403 403 200 403 403 403 200',
    'GET /merchant/reviews': 'L 200 200 200 200 200 200 200',
    'GET /merchant/stores/<int:store_id>/bookings': 'L 404 404 200 404 200 404 200',
    'GET /merchant/stores/<int:store_id>/checkin': 'L 404 404 200 404 200 404 200',
    'GET /merchant/stores/<int:store_id>/dashboard': 'L 403 403 200 403 200 403 200',
    'GET /merchant/stores/<int:store_id>/dashboard/<any(bookings, rates, takings, capacity, ratings, residents):chart>.csv': 'L 403 403 200 403 200 403 200',  # noqa: E501
    'GET /merchant/stores/<int:store_id>/demand': 'L 403 403 200 403 200 403 200',
    'GET /merchant/stores/<int:store_id>/disputes': 'L 404 404 200 404 200 404 200',
    'GET /merchant/stores/<int:store_id>/edit': 'L 403 403 200 403 403 403 200',
    'GET /merchant/stores/<int:store_id>/experiences/new': 'L 403 403 200 403 403 403 200',
    'GET /merchant/stores/<int:store_id>/hours': 'L 403 403 200 403 403 403 200',
    'GET /merchant/stores/<int:store_id>/staff': 'L 403 403 200 403 403 403 200',
    'GET /openapi.json': '200 200 200 200 200 200 200 200',
    'GET /operator/disputes': 'L 403 403 403 403 403 403 200',
    'GET /readyz': '200 200 200 200 200 200 200 200',
    'GET /static/<path:filename>': '200 200 200 200 200 200 200 200',
    'GET /stores/<int:store_id>': '200 200 200 200 200 200 200 200',
    'GET /stores/<int:store_id>/reviews': '200 200 200 200 200 200 200 200',
    'PATCH /api/v1/businesses/<int:business_id>': '401 403 403 200 403 403 403 200',
    'PATCH /api/v1/offerings/<int:offering_id>': '401 403 403 200 403 403 403 200',
    'PATCH /api/v1/photos/<int:photo_id>': '401 422 422 422 422 422 422 422',
    'PATCH /api/v1/reviews/<int:review_id>': '401 422 422 422 422 422 422 422',
    'PATCH /api/v1/stores/<int:store_id>': '401 403 403 200 403 403 403 200',
    'POST /api/v1/auth/logout-everywhere': '401 204 204 204 204 204 204 204',
    'POST /api/v1/auth/register': '422 422 422 422 422 422 422 422',
    'POST /api/v1/auth/tokens': '422 422 422 422 422 422 422 422',
    'POST /api/v1/bookings': '401 422 422 422 422 422 422 422',
    'POST /api/v1/bookings/<int:booking_id>/cancel': '401 200 404 422 404 403 404 422',
    'POST /api/v1/bookings/<int:booking_id>/code': '401 200 404 404 404 404 404 404',
    'POST /api/v1/bookings/<int:booking_id>/confirm': '401 404 404 409 404 409 404 409',
    'POST /api/v1/bookings/<int:booking_id>/dispute': '401 422 422 422 422 422 422 422',
    'POST /api/v1/bookings/<int:booking_id>/no-show': '401 404 404 409 404 409 404 409',
    'POST /api/v1/bookings/<int:booking_id>/payments': '401 422 422 422 422 422 422 422',
    'POST /api/v1/bookings/<int:booking_id>/reject': '401 404 404 409 404 409 404 409',
    'POST /api/v1/bookings/<int:booking_id>/reschedule': '401 422 422 422 422 422 422 422',
    'POST /api/v1/bookings/<int:booking_id>/review': '401 422 422 422 422 422 422 422',
    'POST /api/v1/bookings/<int:booking_id>/self-checkin': '401 422 422 422 422 422 422 422',
    'POST /api/v1/businesses': '401 422 422 422 422 422 422 422',
    'POST /api/v1/checkins': '401 422 422 422 422 422 422 422',
    'POST /api/v1/compensation/<int:compensation_id>/close': '401 422 422 422 422 422 422 422',
    'POST /api/v1/disputes/<int:dispute_id>/answer': '401 422 422 422 422 422 422 422',
    'POST /api/v1/disputes/<int:dispute_id>/confirm-received': '401 409 404 403 404 403 404 403',
    'POST /api/v1/disputes/<int:dispute_id>/decide': '401 422 422 422 422 422 422 422',
    'POST /api/v1/disputes/<int:dispute_id>/escalate': '401 422 404 403 404 403 404 403',
    'POST /api/v1/disputes/<int:dispute_id>/photos': '415 415 415 415 415 415 415 415',
    'POST /api/v1/disputes/<int:dispute_id>/withdraw': '401 200 404 403 404 403 404 403',
    'POST /api/v1/invitations/<int:invitation_id>/accept': '401 404 404 404 404 404 404 404',
    'POST /api/v1/invitations/<int:invitation_id>/decline': '401 404 404 404 404 404 404 404',
    'POST /api/v1/offerings': '401 422 422 422 422 422 422 422',
    'POST /api/v1/offerings/<int:offering_id>/photos': '415 415 415 415 415 415 415 415',
    'POST /api/v1/reviews/<int:review_id>/helpful': '401 409 200 403 200 403 200 403',
    'POST /api/v1/reviews/<int:review_id>/photos': '415 415 415 415 415 415 415 415',
    'POST /api/v1/reviews/<int:review_id>/reply': '401 422 422 422 422 422 422 422',
    'POST /api/v1/reviews/<int:review_id>/report': '401 422 422 422 422 422 422 422',
    'POST /api/v1/slots/<int:slot_id>/cancel': '401 403 403 422 403 403 403 422',
    'POST /api/v1/slots/<int:slot_id>/waitlist': '401 409 409 409 409 409 409 409',
    'POST /api/v1/stores': '401 422 422 422 422 422 422 422',
    'POST /api/v1/stores/<int:store_id>/invitations': '401 422 422 422 422 422 422 422',
    'POST /api/v1/stores/<int:store_id>/photos': '415 415 415 415 415 415 415 415',
    'POST /auth/account': 'L 422 422 422 422 422 422 422',
    'POST /auth/login': '422 422 422 422 422 422 422 422',
    'POST /auth/logout': 'L 302 302 302 302 302 302 302',
    'POST /auth/logout-everywhere': 'L 302 302 302 302 302 302 302',
    'POST /auth/register': '422 422 422 422 422 422 422 422',
    'POST /bookings': 'L 302 302 302 302 302 302 302',
    "POST /bookings/<int:booking_id>/<any(confirm, reject, 'no-show'):action>": 'L 404 404 302 404 302 404 302',
    'POST /bookings/<int:booking_id>/cancel': 'L 302 404 302 404 403 404 302',
    'POST /bookings/<int:booking_id>/code': 'L 302 404 404 404 404 404 404',
    'POST /bookings/<int:booking_id>/dispute': 'L 422 404 403 404 403 404 403',
    'POST /bookings/<int:booking_id>/reschedule': 'L 302 404 403 404 403 404 403',
    'POST /bookings/<int:booking_id>/review': 'L 302 404 404 404 404 404 404',
    'POST /disputes/<int:dispute_id>/<any(withdraw, escalate, confirm):action>': 'L 302 404 403 404 403 404 403',
    'POST /disputes/<int:dispute_id>/answer': 'L 403 404 422 404 422 404 403',
    'POST /disputes/<int:dispute_id>/decide': 'L 403 404 403 404 403 404 422',
    'POST /operator/compensation/<int:compensation_id>/close': 'L 403 403 403 403 403 403 302',
    'POST /disputes/<int:dispute_id>/photos': 'L 302 404 302 404 302 404 403',
    'POST /language': '302 302 302 302 302 302 302 302',
    'POST /me/inbox/read': 'L 302 302 302 302 302 302 302',
    'POST /me/invitations/<int:invitation_id>/<any(accept, decline):answer>': 'L 404 404 404 404 404 404 404',
    'POST /merchant/businesses/<int:business_id>/edit': 'L 403 403 302 403 403 403 302',
    'POST /merchant/businesses/<int:business_id>/stores/new': 'L 403 403 422 403 403 403 422',
    'POST /merchant/businesses/new': 'L 422 422 422 422 422 422 422',
    'POST /merchant/experiences/<int:offering_id>/archive': 'L 403 403 302 403 403 403 302',
    'POST /merchant/experiences/<int:offering_id>/edit': 'L 403 403 302 403 403 403 302',
    'POST /merchant/experiences/<int:offering_id>/photos': 'L 403 403 302 403 403 403 302',
    'POST /merchant/experiences/<int:offering_id>/restore': 'L 403 403 302 403 403 403 302',
    'POST /merchant/experiences/<int:offering_id>/schedule': 'L 403 403 302 403 403 403 302',
    'POST /merchant/photos/<int:photo_id>/alt': 'L 403 403 302 403 403 403 302',
    'POST /merchant/photos/<int:photo_id>/cover': 'L 403 403 302 403 403 403 302',
    'POST /merchant/photos/<int:photo_id>/delete': 'L 403 403 302 403 403 403 302',
    'POST /merchant/photos/<int:photo_id>/move': 'L 403 403 302 403 403 403 302',
    'POST /merchant/slots/<int:slot_id>/cancel': 'L 403 403 302 403 403 403 302',
    'POST /merchant/stores/<int:store_id>/edit': 'L 403 403 422 403 403 403 422',
    'POST /merchant/stores/<int:store_id>/exceptions': 'L 403 403 302 403 403 403 302',
    'POST /merchant/stores/<int:store_id>/exceptions/<int:exception_id>/delete': 'L 403 403 404 403 403 403 404',
    'POST /merchant/stores/<int:store_id>/experiences/new': 'L 403 403 422 403 403 403 422',
    'POST /merchant/stores/<int:store_id>/hours': 'L 403 403 302 403 403 403 302',
    'POST /merchant/stores/<int:store_id>/invitations/<int:invitation_id>/revoke': 'L 403 403 404 403 403 403 404',
    'POST /merchant/stores/<int:store_id>/photos': 'L 403 403 302 403 403 403 302',
    'POST /merchant/stores/<int:store_id>/staff': 'L 403 403 422 403 403 403 422',
    'POST /merchant/stores/<int:store_id>/staff/<int:user_id>/delete': 'L 403 403 302 403 403 403 302',
    'POST /reviews/<int:review_id>/helpful': 'L 302 302 302 302 302 302 302',
    'POST /reviews/<int:review_id>/reply': 'L 302 302 302 302 302 302 302',
    'POST /reviews/<int:review_id>/report': 'L 302 302 302 302 302 302 302',
    'POST /slots/<int:slot_id>/waitlist': 'L 302 302 302 302 302 302 302',
    'POST /waitlist/<int:entry_id>/leave': 'L 302 404 404 404 404 404 404',
    'PUT /api/v1/offerings/<int:offering_id>/photos/order': '401 422 422 422 422 422 422 422',
    'PUT /api/v1/offerings/<int:offering_id>/schedule': '401 403 403 200 403 403 403 200',
    'PUT /api/v1/reviews/<int:review_id>/reply': '401 422 422 422 422 422 422 422',
    'PUT /api/v1/stores/<int:store_id>/photos/order': '401 422 422 422 422 422 422 422',
    # favourites (app/favourites)
    'GET /saved': 'L 200 200 200 200 200 200 200',
    'POST /experiences/<int:offering_id>/save': 'L 302 302 302 302 302 302 302',
    'POST /stores/<int:store_id>/follow': 'L 302 302 302 302 302 302 302',
    'GET /api/v1/residents/<int:resident_id>/favourites': '401 200 404 404 404 404 404 404',
    'PUT /api/v1/saved-experiences/<int:offering_id>': '401 204 204 204 204 204 204 204',
    'DELETE /api/v1/saved-experiences/<int:offering_id>': '401 204 204 204 204 204 204 204',
    'PUT /api/v1/followed-stores/<int:store_id>': '401 204 204 204 204 204 204 204',
    'DELETE /api/v1/followed-stores/<int:store_id>': '401 204 204 204 204 204 204 204',
    'POST /experiences/<int:offering_id>/seat-request': 'L 302 302 302 302 302 302 302',
    'PUT /api/v1/seat-requests/<int:offering_id>': '401 409 409 409 409 409 409 409',  # the world's class has seats
    'DELETE /api/v1/seat-requests/<int:offering_id>': '401 204 204 204 204 204 204 204',
    # conversations (app/conversations/api.py)
    'GET /conversations': 'L 200 200 200 200 200 200 200',
    'GET /conversations/<int:conversation_id>': 'L 200 404 200 404 200 404 404',
    'GET /merchant/stores/<int:store_id>/conversations': 'L 404 404 200 404 200 404 404',
    'POST /offerings/<int:offering_id>/ask': 'L 302 302 403 302 403 302 403',
    'POST /bookings/<int:booking_id>/conversation': 'L 302 404 302 404 302 404 404',
    'DELETE /api/v1/stores/<int:store_id>/block': '401 204 204 204 204 204 204 204',
    'GET /api/v1/conversations': '401 200 200 200 200 200 200 200',
    'GET /api/v1/conversations/<int:conversation_id>': '401 200 404 200 404 200 404 404',
    'GET /api/v1/conversations/<int:conversation_id>/messages': '401 200 404 200 404 200 404 404',
    'GET /api/v1/conversations/<int:conversation_id>/stream': '401 200 404 200 404 200 404 404',
    'GET /api/v1/stores/<int:store_id>/quick-replies': '401 404 404 200 404 200 404 404',
    'POST /api/v1/bookings/<int:booking_id>/conversation': '401 200 404 200 404 200 404 404',
    'POST /api/v1/conversations': '401 422 422 422 422 422 422 422',
    'POST /api/v1/conversations/<int:conversation_id>/messages': '401 422 422 422 422 422 422 422',
    'POST /api/v1/conversations/<int:conversation_id>/read': '401 422 422 422 422 422 422 422',
    'POST /api/v1/messages/<int:message_id>/report': '401 422 422 422 422 422 422 422',
    'POST /api/v1/stores/<int:store_id>/block': '401 204 204 204 204 204 204 204',
    'POST /api/v1/stores/<int:store_id>/quick-replies': '401 422 422 422 422 422 422 422',
    'DELETE /api/v1/quick-replies/<int:reply_id>': '401 404 404 204 404 204 404 404',
    'POST /api/v1/conversations/<int:conversation_id>/photo-messages': '415 415 415 415 415 415 415 415',
    'GET /api/v1/stores/<int:store_id>/conversations/stream': '401 404 404 200 404 200 404 404',
    'POST /merchant/stores/<int:store_id>/quick-replies': 'L 404 404 302 404 302 404 404',
    'POST /merchant/quick-replies/<int:reply_id>/delete': 'L 404 404 302 404 302 404 404',
}
# fmt: on


def _routes(app) -> dict[str, object]:
    routes = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & set(METHODS)):
            routes[f"{method} {rule.rule}"] = rule
    return routes


def _value(name: str, converter: str, world) -> str:
    """The path parameter ``name`` in the world; the first choice of an ``any(...)``."""
    if converter.startswith("any("):
        return re.findall(r"[\w-]+", converter[4:])[0]
    values = {
        "booking_id": world.booking.id, "store_id": world.store.id, "offering_id": world.offering.id,
        "business_id": world.store.business_id, "slot_id": world.slot.id, "entry_id": world.entry.id,
        "user_id": world.users["staff"].id, "exception_id": NO_SUCH_ID, "invitation_id": NO_SUCH_ID,
        "token": "no-such-invitation", "filename": "css/site.css", "name": "no-such-photo.jpg",
        "photo_id": world.photo_id, "dispute_id": world.dispute_id, "review_id": world.review_id,
        "conversation_id": world.conversation_id, "message_id": world.message_id,
        "report_id": NO_SUCH_ID, "resident_id": world.users["resident"].id, "compensation_id": NO_SUCH_ID,
        "reply_id": world.quick_reply_id,
        "audit_id": NO_SUCH_ID,  # none of the visitors is an auditor: every audit page is "not found" to them
    }
    assert name in values, f"no value for path parameter <{name}>: add one to _value() in {__file__}"
    return str(values[name])


def _url(rule, world) -> str:
    return re.sub(r"<(?:([^<>:]+(?:\([^)]*\))?):)?([^<>]+)>",
                  lambda m: _value(m.group(2), m.group(1) or "", world), rule.rule)


def _observe(app, db, world, method: str, url: str) -> str:
    from app.extensions import limiter
    from tests.conftest import AuthActions, IsolatedClient

    app.test_client_class = IsolatedClient  # each request in its own app context, hence its own session
    limiter.reset()  # seven log-ins a route
    visitors = []
    for name in ACTORS:  # every log-in first: the route may be the log-in form, which counts failed attempts
        user = world.users[name]
        client = app.test_client()
        auth = AuthActions(client)
        if user is not None:
            assert auth.login(user.email).status_code == 302, f"{name} could not log in"
        visitors.append((user, client, auth))
    limiter.reset()  # the route's own limit starts afresh: eight visitors, not eight plus seven log-ins
    seen = []
    for user, client, auth in visitors:
        # Plain SQL: SQLAlchemy's own nested transaction would be undone by the request's session rollbacks.
        db.session.execute(text("SAVEPOINT route_access"))
        try:
            if url.startswith("/api/"):
                headers = f.token_for(user) if user is not None else {}
                body = {} if method != "GET" else None
                response = client.open(url, method=method, json=body, headers=headers)
            elif method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": auth.csrf("/")})
        finally:
            db.session.execute(text("ROLLBACK TO SAVEPOINT route_access"))
            db.session.expire_all()
        response.close()  # a file answer (static, uploads) holds its file open until closed
        location = response.headers.get("Location", "")
        seen.append("L" if response.status_code == 302 and "/auth/login" in location else str(response.status_code))
    return " ".join(seen)


@pytest.fixture
def world(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))  # photo files made or removed here
    world = build_world()
    world.photo_id = _photo_of(world.owner, world.offering)
    world.dispute_id = add_dispute(world)  # the resident's, about world.ended, waiting for the store
    world.review_id = add_review(world)
    world.conversation_id, world.message_id = add_conversation(world)
    world.quick_reply_id = save_quick_reply(world.users["staff"], world.store.id, "Kids", "From six years.",
                                            clock.now()).id
    return world


def _photo_of(owner, offering) -> int:
    """A photo in the experience's gallery (the owner's, as the manager uploads one)."""
    content = BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(content, "PNG")
    (photo,) = add_photos(owner, offering, [("photo.png", content.getvalue())])
    return photo.id


def test_every_route_is_in_the_table(app):
    routes = _routes(app)
    missing = sorted(set(routes) - set(TABLE))
    stale = sorted(set(TABLE) - set(routes))
    assert not missing, ("routes missing from the access table in tests/web/test_route_access.py (add a row "
                         "for each; see its docstring):\n" + "\n".join(
                             f"    {key!r}: '?',  # {routes[key].endpoint}" for key in missing))
    assert not stale, "rows for routes that no longer exist:\n" + "\n".join(f"    {key!r}" for key in stale)


@pytest.mark.parametrize("route", sorted(TABLE))
def test_each_visitor_gets_what_the_table_says(app, db, world, route):
    routes = _routes(app)
    assert route in routes, f"stale row {route!r}: no such route any more"
    method = route.split(" ", 1)[0]
    observed = _observe(app, db, world, method, _url(routes[route], world))
    if os.environ.get("ONSITE_ACCESS_TABLE") == "print":
        print(f"\nROW {route!r}: {observed!r},")
        return
    assert observed == TABLE[route], f"{route}\n  actors:   {' '.join(ACTORS)}\n  expected: {TABLE[route]}\n" \
                                     f"  observed: {observed}"
