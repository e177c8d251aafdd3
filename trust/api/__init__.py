"""The trust domain's JSON endpoints under /api/v1: reviews (reviews.py), disputes and the ledger (disputes.py)."""
