"""The one check every redirect to a requested place goes through (``next``, the referrer)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Browsers drop tabs and newlines anywhere in a URL and C0 controls and spaces around it:
# "/\t/evil.example" is followed as "//evil.example". Drop them first, then judge what is left.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str, *, host: str | None = None) -> str:
    """Return ``target`` normalised when it stays on this site, else ``default``.

    A path on this site is kept ("/stores/1?tab=hours"); a scheme, another host, a
    protocol-relative "//host", a backslash (read as a slash by browsers) or anything that is not a
    path sends to ``default``. With ``host`` (the request's), an absolute http(s) URL on that very host
    is kept as its path.
    """
    if not isinstance(target, str):
        return default
    cleaned = _CONTROL.sub("", target).strip()
    if "\\" in cleaned:
        return default
    parts = urlsplit(cleaned)
    if host is not None and parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower():
        cleaned = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
        parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return default
    return cleaned
