"""Calendar files (.ics) for visits, in the store's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, Event, vGeo

from app import clock
from bookings.models import Booking
from geo.points import LngLat


def ics_for(booking: Booking, now: datetime | None = None) -> bytes:
    """Build a VCALENDAR with one VEVENT (and its VTIMEZONE) for the booking."""
    store = booking.store
    zone = ZoneInfo(store.timezone)
    point = LngLat.from_element(store.location)
    calendar = Calendar()
    calendar.add("prodid", "-//Onsite//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@onsite")
    event.add("dtstamp", now or clock.now())
    event.add("dtstart", booking.slot.starts_at.astimezone(zone))
    event.add("dtend", booking.slot.ends_at.astimezone(zone))
    event.add("summary", _("%(title)s — %(store)s", title=booking.offering.title, store=store.name))
    event.add("location", f"{store.name}, {store.address}".strip(", "))
    event.add("geo", vGeo((point.lat, point.lng)))
    facts = {"party": booking.party_size, "code": booking.code, "hours": booking.offering.cancel_cutoff_hours,
             "price": f"{booking.price_due:.2f} {booking.currency}"}
    event.add("description", _("Party of %(party)s. Price: free. Code: %(code)s. Free cancellation until %(hours)s h "
                               "before.", **facts) if booking.price_due == 0 else
              _("Party of %(party)s. Price: %(price)s, paid at the store. Code: %(code)s. Free cancellation until "
                "%(hours)s h before.", **facts))
    event.add("status", "CANCELLED" if booking.status.startswith("cancelled") or booking.status == "rejected"
              else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
