// Store form: click or drag the pin to set the store's location; typed lat/lng move the pin.
(function () {
  "use strict";
  var _ = window.I18N.gettext;
  var holder = document.getElementById("store-map");
  if (!holder) return;
  var map = window[holder.dataset.mapName];
  var marker = holder.dataset.markerName ? window[holder.dataset.markerName] : null;
  var latInput = document.getElementById("lat");
  var lngInput = document.getElementById("lng");

  function fill(latlng) {
    latInput.value = latlng.lat.toFixed(6);
    lngInput.value = latlng.lng.toFixed(6);
  }

  function place(latlng) {
    if (!marker) {
      marker = L.marker(latlng, { draggable: true, title: _("Your store") }).addTo(map);
      marker.on("dragend", function () { fill(marker.getLatLng()); });
    } else {
      marker.setLatLng(latlng);
    }
  }

  if (marker) {
    if (marker.dragging) marker.dragging.enable();
    marker.on("dragend", function () { fill(marker.getLatLng()); });
  }
  map.on("click", function (event) {
    place(event.latlng);
    fill(event.latlng);
  });

  function typed() {
    var lat = parseFloat(latInput.value), lng = parseFloat(lngInput.value);
    if (isFinite(lat) && isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
      place(L.latLng(lat, lng));
      map.panTo([lat, lng]);
    }
  }
  latInput.addEventListener("change", typed);
  lngInput.addEventListener("change", typed);
})();
