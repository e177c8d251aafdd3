// The explore page: one search drives both the list and the map markers, so they always agree.
(function () {
  "use strict";
  var holder = document.getElementById("explore-map");
  if (!holder) return;
  var map = window[holder.dataset.mapName];
  var cluster = window[holder.dataset.clusterName];
  var density = L.layerGroup().addTo(map);
  var initial = JSON.parse(document.getElementById("initial-results").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var form = $("filters"), list = $("results"), more = $("more"), summary = $("result-summary");
  var statusBox = $("status"), errorBox = $("error"), areaButton = $("search-area");
  var state = { lat: initial.lat, lng: initial.lng, radius_m: initial.radius_m, cursor: null, where: "" };
  var circle = null, markers = {}, moving = false, requestNo = 0;

  function formatDistance(m) {
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(m < 10000 ? 1 : 0) + " km";
  }
  function formatPrice(price) {
    if (price.free) return "Free";
    var locale = price.currency === "CNY" ? "zh-CN" : undefined;
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: price.currency }).format(Number(price.amount));
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

  function popupFor(item) {
    var box = document.createElement("div");
    var link = text("a", "fw-semibold", item.title);
    link.href = "/experiences/" + item.id;
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(text("span", "", formatPrice(item.price) + " · " + formatDistance(item.distance_m)));
    box.appendChild(document.createElement("br"));
    box.appendChild(text("span", "text-muted", item.store.name));
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
                          item.open_now ? "Open now" : "Closed now"));
    if (item.rating) meta.appendChild(text("span", "", "★ " + item.rating.avg.toFixed(1) + " (" + item.rating.count + ")"));
    li.appendChild(meta);
    list.appendChild(li);

    var marker = L.marker([item.lat, item.lng], { title: item.title });
    marker.bindPopup(popupFor(item));
    marker.offeringId = item.id;
    cluster.addLayer(marker);
    markers[item.id] = marker;
    li.addEventListener("mouseenter", function () { li.classList.add("active"); });
    li.addEventListener("mouseleave", function () { li.classList.remove("active"); });
    li.addEventListener("click", function (event) {
      if (event.target.tagName === "A") return;
      cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
    });
  }

  function render(items, append, nextCursor) {
    if (!append) {
      list.textContent = "";
      cluster.clearLayers();
      markers = {};
    }
    items.forEach(addItem);
    state.cursor = nextCursor || null;
    more.classList.toggle("d-none", !state.cursor);
    var count = list.children.length;
    summary.textContent = count === 0
      ? "Nothing here yet with these filters. Try a wider area or fewer filters."
      : count + (state.cursor ? "+" : "") + " experiences within " + formatDistance(state.radius_m) + (state.where ? " of " + state.where : "");
    if (circle) map.removeLayer(circle);
    circle = L.circle([state.lat, state.lng], { radius: state.radius_m, color: "#0d6efd", weight: 1, fillOpacity: 0.03, interactive: false }).addTo(map);
  }

  function filterParams() {
    var params = new URLSearchParams();
    ["q", "category", "max_price", "sort"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) params.append(name, value);
    });
    if (form.elements.free.checked) params.append("free", "true");
    if (form.elements.open_now.checked) params.append("open_now", "true");
    return params;
  }

  function search(append) {
    var params = filterParams();
    params.set("lat", state.lat.toFixed(6));
    params.set("lng", state.lng.toFixed(6));
    params.set("radius_m", Math.round(state.radius_m));
    params.set("limit", "50");
    if (append && state.cursor) params.set("cursor", state.cursor);
    var mine = ++requestNo;
    statusBox.textContent = "Searching…";
    return fetch("/api/v1/offerings/nearby?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (mine !== requestNo) return;
        statusBox.textContent = "";
        if (!result.ok) {
          var details = result.body.error && result.body.error.details;
          showError(details ? Object.keys(details).map(function (k) { return k + ": " + details[k]; }).join("; ")
                            : "The search failed; please try again.");
          return;
        }
        showError("");
        render(result.body.items, append, result.body.next_cursor);
      })
      .catch(function () {
        statusBox.textContent = "";
        showError("Could not reach Onsite. Check your connection and try again.");
      });
  }

  function moveTo(lat, lng, zoom, where) {
    state.lat = lat; state.lng = lng; state.where = where || "";
    moving = true;
    map.setView([lat, lng], zoom || Math.max(map.getZoom(), 14));
    areaButton.classList.add("d-none");
    return search(false);
  }

  // Zoomed out, the map also shows how much there is around, as server-side clusters.
  function refreshDensity() {
    density.clearLayers();
    if (map.getZoom() > 12) return;
    var b = map.getBounds(), c = b.getCenter();
    var half = 0.99;  // the API takes boxes up to 2 degrees across
    var params = filterParams();
    params.delete("sort");
    params.set("min_lng", Math.max(b.getWest(), c.lng - half, -180).toFixed(5));
    params.set("max_lng", Math.min(b.getEast(), c.lng + half, 180).toFixed(5));
    params.set("min_lat", Math.max(b.getSouth(), c.lat - half, -90).toFixed(5));
    params.set("max_lat", Math.min(b.getNorth(), c.lat + half, 90).toFixed(5));
    params.set("zoom", map.getZoom());
    fetch("/api/v1/offerings/in-view?" + params.toString()).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (view) {
        if (!view || view.mode !== "clusters") return;
        view.clusters.forEach(function (c) {
          var size = Math.min(64, 24 + Math.log10(c.count) * 12);
          var icon = L.divIcon({ className: "density-marker", html: String(c.count), iconSize: [size, size] });
          L.marker([c.lat, c.lng], { icon: icon, title: c.count + " experiences" })
            .on("click", function () { map.setView([c.lat, c.lng], map.getZoom() + 2); })
            .addTo(density);
        });
      }).catch(function () { /* the density layer is a hint; the list still works */ });
  }

  map.on("moveend", function () {
    if (!moving) areaButton.classList.remove("d-none");
    moving = false;
    refreshDensity();
  });
  areaButton.addEventListener("click", function () {
    var centre = map.getCenter();
    state.radius_m = Math.min(50000, Math.max(500, map.distance(centre, map.getBounds().getNorthEast())));
    moveTo(centre.lat, centre.lng, map.getZoom(), "the map's centre");
  });
  more.addEventListener("click", function () { search(true); });
  form.addEventListener("submit", function (event) { event.preventDefault(); search(false); });
  ["category", "sort", "free", "open_now"].forEach(function (name) {
    form.elements[name].addEventListener("change", function () { search(false); });
  });
  ["q", "max_price"].forEach(function (name) {
    var timer = null;
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { search(false); }, 350);
    });
  });

  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { showError("This browser cannot share its location; type a place instead."); return; }
    statusBox.textContent = "Finding you…";
    navigator.geolocation.getCurrentPosition(function (position) {
      state.radius_m = 3000;
      moveTo(position.coords.latitude, position.coords.longitude, 15, "you");
    }, function () {
      statusBox.textContent = "";
      showError("Location is not available; type a place instead.");
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
          placeResults.textContent = "";
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
  if (initial.items.length === 50) search(false);  // fetch a cursor for "More results"
})();
