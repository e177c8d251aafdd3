// "I'm here": send the browser's position and the counter's code; show the answer.
(function () {
  "use strict";
  var _ = window.I18N.gettext;
  var box = document.getElementById("im-here");
  if (!box) return;
  var out = document.getElementById("im-here-result");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var reasons = {
    too_far: _("You are not at the store yet."),
    position_too_vague: _("Your position is too imprecise; step outside or turn on precise location and try again."),
    stale_code: _("That is not the code shown at the counter right now."),
    missing_position: _("Allow location so we can see you are at the store."),
    outside_window: _("It is not the time for this visit."),
    already_checked_in: _("You are already checked in.")
  };
  function say(text, ok) {
    out.textContent = text;
    out.className = "mt-2 small " + (ok ? "text-success fw-semibold" : "text-danger");
  }
  function send(position) {
    var body = { store_code: document.getElementById("store-code").value.trim() };
    if (position) {
      body.lat = position.coords.latitude;
      body.lng = position.coords.longitude;
      body.accuracy = position.coords.accuracy;
    }
    fetch("/api/v1/bookings/" + box.dataset.bookingId + "/self-checkin", {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (res.ok) { say(_("Checked in: a verified visit."), true); setTimeout(function () { location.reload(); }, 800); return; }
        var e = res.body.error || {};
        say(reasons[e.code] || e.message || _("Could not check you in."), false);
      })
      .catch(function () { say(_("Could not reach Onsite. Try again."), false); });
  }
  document.getElementById("im-here-button").addEventListener("click", function () {
    say(_("Finding your position…"), true);
    if (!navigator.geolocation) { send(null); return; }
    navigator.geolocation.getCurrentPosition(send, function () { send(null); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  });
})();
