"""Conversations between a resident and a store: before booking, and one per booking."""
