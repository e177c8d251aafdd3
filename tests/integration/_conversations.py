"""A committed thread for tests that need real connections (threads, processes, a stream): a store far from
every other test's map, a clerk and a resident with bearer tokens; deleted again afterwards."""

from __future__ import annotations

import contextlib
from datetime import datetime

from sqlalchemy import delete

from app.auth.models import Role, User
from app.conversations import services as conv
from app.conversations.models import Conversation
from app.extensions import db
from app.merchants.models import Business
from tests import factories as f


@contextlib.contextmanager
def committed_thread(app, now: datetime, name: str):
    with app.app_context():
        store = f.create_store(lng=-150.5, lat=-61.0, name=name)
        clerk = f.add_staff(store, f.create_user(Role.STAFF))
        resident = f.create_user()
        thread = conv.start_enquiry(resident, store.id, now)
        ids = dict(thread=thread.id, store=store.id, business=store.business_id, resident=resident.id, clerk=clerk.id,
                   users=[clerk.id, resident.id, store.business.owner_id],
                   resident_auth=f.token_for(resident), clerk_auth=f.token_for(clerk))
        db.session.commit()
    try:
        yield ids
    finally:
        with app.app_context():
            db.session.execute(delete(Conversation).where(Conversation.id == ids["thread"]))
            db.session.execute(delete(Business).where(Business.id == ids["business"]))
            db.session.execute(delete(User).where(User.id.in_(ids["users"])))
            db.session.commit()
