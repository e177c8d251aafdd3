"""Demo conversations on the demo merchant's stores: one answered (which gives the studio a response time),
one still waiting for the store, and a saved quick reply."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.auth.models import User
from app.conversations import services
from app.conversations.models import Conversation
from app.extensions import db
from app.merchants.models import Business, Store
from app.offerings.models import Offering

ANSWERED = (
    ("可以带 6 岁的孩子一起来吗？Can I bring my 6-year-old?", "resident", 0),
    ("可以的，6 岁以上的小朋友都欢迎，我们有儿童围裙。Yes, children from six are welcome; we have small aprons.",
     "store", 35),
)
WAITING = "周六下午 2 点的课是英文授课吗？Is the Saturday 14:00 class taught in English?"


def load_demo_conversations(merchant_email: str, resident_email: str) -> None:
    """Nothing when the merchant's stores have conversations already (flushes, never commits)."""
    merchant = db.session.scalar(select(User).where(User.email == merchant_email))
    resident = db.session.scalar(select(User).where(User.email == resident_email))
    if merchant is None or resident is None:
        return
    stores = select(Store.id).join(Business).where(Business.owner_id == merchant.id)
    if db.session.scalar(select(Conversation.id).where(Conversation.store_id.in_(stores)).limit(1)) is not None:
        return
    offerings = list(db.session.scalars(select(Offering).where(Offering.store_id.in_(stores)).order_by(Offering.id)
                                        .limit(2)))
    if not offerings:
        return
    now = clock.now()
    first = offerings[0]
    asked = now - timedelta(days=3)
    thread = services.start_enquiry(resident, first.store_id, asked, first.id)
    for body, side, minutes in ANSWERED:
        services.send_message(resident if side == "resident" else merchant, thread.id, body,
                              asked + timedelta(minutes=minutes))
    second = offerings[-1]
    waiting = services.start_enquiry(resident, second.store_id, now - timedelta(hours=2),
                                     second.id if second.id != first.id else None)
    services.send_message(resident, waiting.id, WAITING, now - timedelta(hours=2))
    services.save_quick_reply(merchant, first.store_id, "孩子 Kids",
                              "6 岁以上的小朋友都欢迎。Children from six are welcome.", now)
    db.session.flush()
