"""Favourites: experiences a resident saved and stores a resident follows (private to the resident)."""
