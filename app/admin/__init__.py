"""The operator's console (/admin pages, /api/v1/admin endpoints); its verbs live in trust.services.moderation."""
