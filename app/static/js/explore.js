// The explore page: a list and a map of the same filters.
//
// The list is the nearby search: around a place (you, a place typed, or the map's centre after "Search this
// area"), within the circle drawn on the map, in the order chosen, 50 at a time. The map shows everything in
// view that matches the same filters, at every zoom: each experience (Leaflet groups close ones, and the
// group's number counts them) while the API answers features, the server's counted clusters when a view holds
// more than 500. The list's experiences are the same pins, so a listed experience in view is always on the map;
// moving the map changes the map only, until "Search this area" moves the list to it.
(function () {
  "use strict";
  var _ = window.I18N.gettext, ngettext = window.I18N.ngettext, locale = window.I18N.locale;
  var holder = document.getElementById("explore-map");
  if (!holder) return;
  var map = window[holder.dataset.mapName];
  var cluster = window[holder.dataset.clusterName];
  var density = L.layerGroup().addTo(map);
  var initial = JSON.parse(document.getElementById("initial-results").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var form = $("filters"), list = $("results"), more = $("more"), summary = $("result-summary");
  var statusBox = $("status"), errorBox = $("error"), areaButton = $("search-area"), mapSummary = $("map-summary");
  var state = { lat: initial.lat, lng: initial.lng, radius_m: initial.radius_m, cursor: null, where: "" };
  var circle = null, markers = {}, moving = false, requestNo = 0;

  function formatNumber(n, digits, fewer) {  // fewer: drop trailing zeros (3 km, 1.2 km; as the pages say)
    return new Intl.NumberFormat(locale, { minimumFractionDigits: fewer ? 0 : digits || 0,
                                           maximumFractionDigits: digits || 0 }).format(n);
  }
  function formatDistance(m) {
    return m < 1000 ? _("%(n)s m", { n: formatNumber(Math.round(m)) })
                    : _("%(n)s km", { n: formatNumber(m / 1000, m < 10000 ? 1 : 0, true) });
  }
  function formatPrice(price) {
    if (price.free) return _("Free");
    try {  // "¥88.00", never "CN¥88.00", whatever the page's language
      return new Intl.NumberFormat(locale, { style: "currency", currency: price.currency, currencyDisplay: "narrowSymbol" })
        .format(Number(price.amount));
    } catch (e) { return price.amount + " " + price.currency; }
  }
  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }
  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.classList.toggle("d-none", !message);
  }

  // An experience's cover from the API (item.photo: url, srcset, width, height, alt), at the size it is shown.
  function photo(item, cls, sizes) {
    var img = document.createElement("img");
    img.className = cls;
    img.src = item.photo.url;
    img.srcset = item.photo.srcset;
    img.sizes = sizes;
    img.width = item.photo.width;
    img.height = item.photo.height;
    img.alt = item.photo.alt || "";  // the title is next to it
    img.loading = "lazy";
    img.decoding = "async";
    return img;
  }

  // The heart on a list item and a popup: the same form as the experience page's (favourites.js posts it and
  // flips the button in place; an anonymous visitor is sent to log in and comes back).
  var hearts = JSON.parse(document.getElementById("hearts").textContent), saved = {};
  hearts.saved.forEach(function (id) { saved[id] = true; });
  document.addEventListener("click", function (event) {  // keep the flipped state for the item's other heart
    var button = event.target.closest && event.target.closest("form[data-fav-toggle] button[data-offering-id]");
    if (button) saved[button.dataset.offeringId] = button.getAttribute("aria-pressed") !== "true";
  }, true);
  function heart(item) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/experiences/" + item.id + "/save";
    form.className = "d-inline heart-form";
    form.setAttribute("data-fav-toggle", "");
    [["csrf_token", hearts.csrf], ["next", hearts.next]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    var on = !!saved[item.id];
    var button = text("button", "btn btn-sm py-0 " + (on ? "btn-danger" : "btn-outline-danger"),
                      "♥ " + (on ? _("Saved") : _("Save")));
    button.type = "submit";
    button.dataset.offeringId = item.id;
    button.dataset.on = "♥ " + _("Saved");
    button.dataset.off = "♥ " + _("Save");
    button.dataset.onClass = "btn-danger";
    button.dataset.offClass = "btn-outline-danger";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.title = item.title;
    button.setAttribute("data-testid", "heart");
    form.appendChild(button);
    form.addEventListener("click", function (event) { event.stopPropagation(); });  // not the item's "show on map"
    return form;
  }

  function popupFor(item) {
    var box = document.createElement("div");
    if (item.photo) box.appendChild(photo(item, "popup-photo", "220px"));
    var link = text("a", "fw-semibold", item.title);
    link.href = "/experiences/" + item.id;
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(text("span", "", formatPrice(item.price) + " · " + formatDistance(item.distance_m)));
    box.appendChild(document.createElement("br"));
    box.appendChild(text("span", "text-muted", item.store.name));
    box.appendChild(document.createElement("br"));
    box.appendChild(heart(item));
    return box;
  }

  function addItem(item) {
    var li = document.createElement("li");
    li.className = "result-item";
    li.dataset.offeringId = item.id;
    var link = text("a", "fw-semibold d-block", item.title);
    link.href = "/experiences/" + item.id;
    li.appendChild(link);
    li.appendChild(text("div", "small text-muted", item.store.name));
    var meta = document.createElement("div");
    meta.className = "small";
    meta.appendChild(text("span", "badge text-bg-light me-1", formatPrice(item.price)));
    meta.appendChild(text("span", "me-2", formatDistance(item.distance_m)));
    meta.appendChild(text("span", item.open_now ? "text-success me-2" : "text-muted me-2",
                          item.open_now ? _("Open now") : _("Closed now")));
    if (item.rating) {
      meta.appendChild(text("span", "", _("★ %(rating)s (%(count)s)", {
        rating: formatNumber(item.rating.avg, 1), count: formatNumber(item.rating.count) })));
    }
    meta.appendChild(heart(item));
    li.appendChild(meta);
    if (item.photo) {
      li.classList.add("has-photo");
      li.appendChild(photo(item, "result-photo", "88px"));
    }
    list.appendChild(li);

    var marker = L.marker([item.lat, item.lng], { title: item.title });
    marker.bindPopup(function () { return popupFor(item); });  // drawn on opening: the heart as it is now
    marker.offeringId = item.id;
    cluster.addLayer(marker);
    markers[item.id] = marker;
    li.addEventListener("mouseenter", function () { li.classList.add("active"); });
    li.addEventListener("mouseleave", function () { li.classList.remove("active"); });
    li.addEventListener("click", function (event) {
      if (event.target.tagName === "A") return;
      showOnMap(marker);
    });
  }

  // Empty the list and take its pins off the map (the pins of what is in view stay).
  function clearList() {
    list.textContent = "";
    Object.keys(markers).forEach(function (id) { cluster.removeLayer(markers[id]); });
    markers = {};
    state.cursor = null;
    more.classList.add("d-none");
  }

  function render(items, append, nextCursor) {
    if (!append) clearList();
    items.forEach(addItem);
    state.cursor = nextCursor || null;
    more.classList.toggle("d-none", !state.cursor);
    var count = list.children.length;
    summary.textContent = count === 0
      ? _("Nothing here yet with these filters. Try a wider area, another time or fewer filters.")
      : summaryText(count);
    if (circle) map.removeLayer(circle);
    circle = L.circle([state.lat, state.lng], { radius: state.radius_m, color: "#0d6efd", weight: 1, fillOpacity: 0.03, interactive: false }).addTo(map);
    if (items.some(function (item) { return item.rating; })) {  // something to rank by: offer "Rating"
      $("sort-rating").hidden = false;
      $("sort-rating").disabled = false;
    }
    syncMap();
  }

  // -- when can I go? -------------------------------------------------------------------------------
  // Days are the resident's own (this device's calendar); the API reads them as each store's local date.
  (function fillDays() {
    var select = form.elements.available_on, today = new Date();
    var format = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short" });
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    for (var n = 0; n < 7; n++) {
      var day = new Date(today.getFullYear(), today.getMonth(), today.getDate() + n);
      var option = text("option", "", n === 0 ? _("Today") : n === 1 ? _("Tomorrow") : format.format(day));
      option.value = day.getFullYear() + "-" + pad(day.getMonth() + 1) + "-" + pad(day.getDate());
      select.appendChild(option);
    }
  })();

  // "12+ experiences within 3 km of you, free tomorrow afternoon for 4": one sentence per case, for translators.
  function summaryText(count) {
    var values = { num: formatNumber(count) + (state.cursor ? "+" : ""), distance: formatDistance(state.radius_m),
                   place: state.where };
    var sentence;
    if (state.where === "you") {
      sentence = ngettext("%(num)s experience within %(distance)s of you",
                          "%(num)s experiences within %(distance)s of you", count, values);
    } else if (state.where === "centre") {
      sentence = ngettext("%(num)s experience within %(distance)s of the map's centre",
                          "%(num)s experiences within %(distance)s of the map's centre", count, values);
    } else if (state.where) {
      sentence = ngettext("%(num)s experience within %(distance)s of %(place)s",
                          "%(num)s experiences within %(distance)s of %(place)s", count, values);
    } else {
      sentence = ngettext("%(num)s experience within %(distance)s", "%(num)s experiences within %(distance)s",
                          count, values);
    }
    var when = whenLabel();
    return when ? _("%(summary)s, free %(when)s", { summary: sentence, when: when }) : sentence;
  }

  function whenLabel() {
    var day = form.elements.available_on;
    if (!day.value) return "";
    var part = form.elements.part_of_day.value, party = Number(form.elements.party.value);
    var label = day.selectedIndex === 1 ? _("today") : day.selectedIndex === 2 ? _("tomorrow")
      : _("on %(day)s", { day: day.options[day.selectedIndex].textContent });  // "on Wed 2 Dec"
    var parts = { morning: _("morning"), afternoon: _("afternoon"), evening: _("evening") };
    if (part) label = _("%(day)s %(part)s", { day: label, part: parts[part] });
    return party > 1 ? _("%(when)s for %(party)s", { when: label, party: party }) : label;
  }

  function filterParams() {
    var params = new URLSearchParams();
    ["q", "category", "max_price", "sort", "available_on"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) params.append(name, value);
    });
    if (form.elements.free.checked) params.append("free", "true");
    if (form.elements.open_now.checked) params.append("open_now", "true");
    if (params.has("available_on")) {
      if (form.elements.part_of_day.value) params.append("part_of_day", form.elements.part_of_day.value);
      if (Number(form.elements.party.value) > 1) params.append("party", form.elements.party.value);
    }
    return params;
  }

  // "max_price: Not a valid number." in the words of the form: "Max price: not a valid number."
  function problems(body) {
    var details = body && body.error && body.error.details;
    if (!details) return _("The search failed; please try again.");
    return Object.keys(details).map(function (field) {
      var label = form.querySelector('label[for="' + field + '"]');
      var message = String(details[field]);
      return _("%(field)s: %(problem)s", { field: label ? label.textContent : field,
                                          problem: message.charAt(0).toLowerCase() + message.slice(1) });
    }).join(_("; "));
  }

  function sameAsListed(items) {  // the answer lists what is listed already, in the same order
    var shown = Array.prototype.map.call(list.children, function (li) { return li.dataset.offeringId; });
    return shown.length === items.length &&
      items.every(function (item, i) { return String(item.id) === shown[i]; });
  }

  // keepIfSame: only the cursor is wanted (the page came with its results); the list is redrawn only if the
  // answer differs, so it is not rebuilt under the resident's eyes (or hand) for nothing.
  function search(append, keepIfSame) {
    var params = filterParams();
    params.set("lat", state.lat.toFixed(6));
    params.set("lng", state.lng.toFixed(6));
    params.set("radius_m", Math.round(state.radius_m));
    params.set("limit", "50");
    if (append && state.cursor) params.set("cursor", state.cursor);
    var mine = ++requestNo;
    statusBox.textContent = _("Searching…");
    return fetch("/api/v1/offerings/nearby?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (mine !== requestNo) return;
        statusBox.textContent = "";
        if (!result.ok) {  // what was listed answered another search: take it away
          showError(problems(result.body));
          if (!append) {
            clearList();
            summary.textContent = _("No results: correct the search above.");
          }
          return;
        }
        showError("");
        if (keepIfSame && sameAsListed(result.body.items)) {
          state.cursor = result.body.next_cursor || null;
          more.classList.toggle("d-none", !state.cursor);
          return;
        }
        render(result.body.items, append, result.body.next_cursor);
      })
      .catch(function () {
        statusBox.textContent = "";
        showError(_("Could not reach Onsite. Check your connection and try again."));
      });
  }

  function moveTo(lat, lng, zoom, where) {
    state.lat = lat; state.lng = lng; state.where = where || "";
    moving = true;
    map.setView([lat, lng], zoom || Math.max(map.getZoom(), 14));
    areaButton.classList.add("d-none");
    return search(false);
  }

  // -- what is in view --------------------------------------------------------------------------------
  // The in-view API takes boxes up to 2 degrees across: a wider view is asked for in tiles (equal parts, so
  // their edges never move with rounding). The map does not zoom out past a country, where tiles would be many.
  var MAX_TILE_DEG = 1.98, MAX_TILES = 16, MIN_ZOOM = 7;
  var view = [], viewZoom = null, viewNo = 0, others = {}, pending = null, opened = null;
  map.on("popupopen", function (event) { opened = event.popup._source || null; });
  map.on("popupclose", function (event) { if (opened === event.popup._source) opened = null; });
  map.setMinZoom(MIN_ZOOM);

  function viewTiles() {
    var b = map.getBounds();
    var west = Math.max(b.getWest(), -180), east = Math.min(b.getEast(), 180);
    var south = Math.max(b.getSouth(), -90), north = Math.min(b.getNorth(), 90);
    var cols = Math.max(1, Math.ceil((east - west) / MAX_TILE_DEG));
    var rows = Math.max(1, Math.ceil((north - south) / MAX_TILE_DEG));
    if (cols * rows > MAX_TILES) return null;
    var tiles = [], at = function (low, high, i, n) { return Number((low + (high - low) * i / n).toFixed(5)); };
    for (var i = 0; i < cols; i++) {
      for (var j = 0; j < rows; j++) {
        tiles.push({ min_lng: at(west, east, i, cols), max_lng: at(west, east, i + 1, cols),
                     min_lat: at(south, north, j, rows), max_lat: at(south, north, j + 1, rows) });
      }
    }
    return tiles;
  }

  function refreshView() {
    var mine = ++viewNo, tiles = viewTiles(), zoom = map.getZoom();
    if (!tiles) {
      view = [];
      viewZoom = zoom;
      syncMap(_("Zoom in to see the experiences on the map."));
      return;
    }
    var params = filterParams();
    params.delete("sort");
    params.set("zoom", map.getZoom());
    Promise.all(tiles.map(function (tile) {
      var query = new URLSearchParams(params);
      Object.keys(tile).forEach(function (key) { query.set(key, tile[key]); });
      return fetch("/api/v1/offerings/in-view?" + query.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status === 422 ? "invalid" : "in-view " + response.status);
          return response.json();
        })
        .then(function (answer) { answer.box = tile; return answer; });
    })).then(function (answers) {
      if (mine !== viewNo) return;
      view = answers;
      viewZoom = zoom;
      syncMap();
    }).catch(function (error) {
      if (mine !== viewNo) return;
      view = [];  // never leave pins of another search on the map
      viewZoom = zoom;
      syncMap(error.message === "invalid" ? _("Nothing on the map until the search is corrected.")
                                          : _("The map could not show what is in view."));
    });
  }

  function featureMarker(feature) {
    var marker = L.marker([feature.lat, feature.lng], { title: feature.title });
    marker.offeringId = feature.id;
    marker.bindPopup(function () {  // built when opened: a zoomed-out view holds hundreds
      return popupFor(Object.assign({ distance_m: map.distance([state.lat, state.lng], [feature.lat, feature.lng]) }, feature));
    });
    return marker;
  }

  function densityMarker(c) {
    var size = Math.min(64, 24 + Math.log10(c.count) * 12);
    var icon = L.divIcon({ className: "density-marker", html: String(c.count), iconSize: [size, size] });
    var title = ngettext("%(num)s experience", "%(num)s experiences", c.count, { num: formatNumber(c.count) });
    return L.marker([c.lat, c.lng], { icon: icon, title: title })
      .on("click", function () { map.setView([c.lat, c.lng], map.getZoom() + 2); });
  }

  // Put on the map exactly what is in view (and the list's pins), each experience once.
  function syncMap(note) {
    var wanted = {}, total = 0, counted = [];
    density.clearLayers();
    view.forEach(function (answer) {
      total += answer.total;
      if (answer.mode === "clusters") {
        counted.push(answer.box);
        answer.clusters.forEach(function (c) { densityMarker(c).addTo(density); });
        return;
      }
      answer.features.forEach(function (feature) {
        wanted[feature.id] = markers[feature.id] || others[feature.id] || featureMarker(feature);
      });
    });
    Object.keys(markers).forEach(function (id) {  // a listed pin stays unless a counted cluster holds it
      var at = markers[id].getLatLng();
      var held = counted.some(function (box) {
        return at.lat >= box.min_lat && at.lat <= box.max_lat && at.lng >= box.min_lng && at.lng <= box.max_lng;
      });
      if (!held) wanted[id] = markers[id];
    });
    var gone = [], added = [], shown = opened;
    cluster.eachLayer(function (layer) { if (wanted[layer.offeringId] !== layer) gone.push(layer); });
    if (gone.length) cluster.removeLayers(gone);  // either call folds a spiderfied cluster, closing its popup
    others = {};
    Object.keys(wanted).forEach(function (id) {
      if (!markers[id]) others[id] = wanted[id];
      if (!cluster.hasLayer(wanted[id])) added.push(wanted[id]);
    });
    if (added.length) cluster.addLayers(added);
    if (shown && !shown.isPopupOpen() && cluster.hasLayer(shown)) {  // the pin the resident opened stays open
      cluster.zoomToShowLayer(shown, function () { shown.openPopup(); });
    }
    mapSummary.dataset.zoom = viewZoom;  // the zoom the map's content answers (browser tests wait for it)
    mapSummary.textContent = note || (view.length ? ngettext("%(num)s experience in view", "%(num)s experiences in view",
                                                             total, { num: formatNumber(total) }) : "");
    var asked = pending;  // a listed pin asked for before this view came: open it now if it is alone
    pending = null;
    if (asked && cluster.hasLayer(asked)) showOnMap(asked);
  }

  // Open a listed experience's pin, zooming in far enough to see it alone (through its cluster if need be).
  function showOnMap(marker) {
    if (!cluster.hasLayer(marker)) {  // inside one of the server's clusters: zoom in, then open it
      pending = marker;
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
      return;
    }
    pending = null;
    cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
  }

  function searchAll() {
    refreshView();
    return search(false);
  }

  map.on("moveend", function () {
    if (!moving) areaButton.classList.remove("d-none");
    moving = false;
    refreshView();
  });
  areaButton.addEventListener("click", function () {
    var centre = map.getCenter();
    state.radius_m = Math.min(50000, Math.max(500, map.distance(centre, map.getBounds().getNorthEast())));
    moveTo(centre.lat, centre.lng, map.getZoom(), "centre");
  });
  more.addEventListener("click", function () { search(true); });
  form.addEventListener("submit", function (event) { event.preventDefault(); searchAll(); });
  form.elements.sort.addEventListener("change", function () { search(false); });  // the map has no order
  ["category", "free", "open_now", "available_on", "part_of_day", "party"].forEach(function (name) {
    form.elements[name].addEventListener("change", function () {
      var anyDay = !form.elements.available_on.value;
      form.elements.part_of_day.disabled = form.elements.party.disabled = anyDay;
      searchAll();
    });
  });
  ["q", "max_price"].forEach(function (name) {
    var timer = null;
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(searchAll, 350);
    });
  });

  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { showError(_("This browser cannot share its location; type a place instead.")); return; }
    statusBox.textContent = _("Finding you…");
    navigator.geolocation.getCurrentPosition(function (position) {
      state.radius_m = 3000;
      moveTo(position.coords.latitude, position.coords.longitude, 15, "you");
    }, function () {
      statusBox.textContent = "";
      showError(_("Location is not available; type a place instead."));
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });

  var placeInput = $("place"), placeResults = $("place-results"), placeTimer = null;
  placeInput.addEventListener("input", function () {
    clearTimeout(placeTimer);
    var q = placeInput.value.trim();
    if (!q) { placeResults.textContent = ""; return; }
    placeTimer = setTimeout(function () {
      fetch("/api/v1/places?q=" + encodeURIComponent(q)).then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) {
          if (placeInput.value.trim() !== q) return;  // an answer to what was typed before
          placeResults.textContent = "";
          if (!found.length) {
            placeResults.appendChild(text("div", "list-group-item small text-muted", _("No place called “%(place)s”", { place: q })));
            return;
          }
          found.forEach(function (place) {
            var label = place.name + (place.local_name ? " " + place.local_name : "") + " · " + place.country;
            var button = text("button", "list-group-item list-group-item-action small", label);
            button.type = "button";
            button.addEventListener("click", function () {
              placeResults.textContent = "";
              placeInput.value = place.name;
              state.radius_m = place.kind === "district" ? 3000 : 10000;
              moveTo(place.lat, place.lng, place.zoom, place.name);
            });
            placeResults.appendChild(button);
          });
        });
    }, 200);
  });

  render(initial.items, false, null);
  refreshView();
  if (initial.items.length === 50) search(false, true);  // fetch a cursor for "More results"
})();
