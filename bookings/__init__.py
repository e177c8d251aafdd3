"""The booking domain: slots, bookings, waitlists, offline payments, check-in."""
