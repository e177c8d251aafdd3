"""The trust domain's pages: reviews (reviews.py), disputes (disputes.py)."""
