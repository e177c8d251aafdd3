// The counter: type or scan a code, one large answer, then record what was paid.
(function () {
  "use strict";
  var _ = window.I18N.gettext;
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var storeId = Number(form.dataset.storeId);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var input = document.getElementById("checkin-code");
  var result = document.getElementById("checkin-result");
  var payForm = document.getElementById("payment-form");
  var zone = form.dataset.timezone;
  var current = null, busy = false;
  var reasons = {
    already_checked_in: _("Already checked in"),
    not_confirmed: _("Not confirmed"),
    cancelled: _("Cancelled"),
    wrong_store: _("Booked at another store"),
    outside_window: _("Not the time for this visit"),
    invalid_code: _("Code not valid"),
    rate_limited: _("Too many wrong codes — wait a moment"),
    validation_failed: _("Type or scan a code")
  };

  function api(path, body) {
    return fetch(path, { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, ok: r.ok, body: j }; }); });
  }
  function line(text, cls) {
    var el = document.createElement("div");
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }
  function show(ok, title, lines) {
    result.className = "mt-3 p-4 rounded text-white " + (ok ? "bg-success" : "bg-danger");
    result.textContent = "";
    result.appendChild(line(title, "display-6 fw-bold"));
    lines.forEach(function (t) { result.appendChild(line(t, "fs-5")); });
  }
  function money(m) {
    return Number(m.amount) === 0 ? _("nothing to collect") : new Intl.NumberFormat(m.currency === "CNY" ? "zh-CN" : undefined,
      { style: "currency", currency: m.currency }).format(Number(m.amount));
  }
  // A time as the store reads it: its own zone and the page's language, 24-hour, whatever the tablet's settings.
  function storeTime(iso, clockOnly) {
    var parts = clockOnly ? { hour: "2-digit", minute: "2-digit" }
      : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    parts.timeZone = zone;
    parts.hourCycle = "h23";
    try {
      return new Intl.DateTimeFormat(window.I18N.locale, parts).format(new Date(iso));
    } catch (e) { return clockOnly ? iso.slice(11, 16) : iso.slice(0, 16).replace("T", " "); }
  }
  // The roster as the server renders it, replaced in place (the counter stays where it is).
  function refreshRoster() {
    fetch(window.location.href, { headers: { Accept: "text/html" } }).then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("roster");
        var roster = document.getElementById("roster");
        if (fresh && roster) roster.replaceWith(fresh);
      }).catch(function () { /* the next check-in tries again */ });
  }
  function submit(code) {
    if (busy) return;
    if (!code) { show(false, reasons.validation_failed, [_("The code is on the visitor's booking page.")]); input.focus(); return; }
    busy = true;
    var nonce = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    var attempt = function (tries) {
      return api("/api/v1/checkins", { code: code, store_id: storeId, nonce: nonce }).catch(function (err) {
        if (tries > 0) return attempt(tries - 1);  // same nonce: the server answers as the first time
        throw err;
      });
    };
    attempt(2).then(function (res) {
      if (res.ok) {
        var b = res.body.booking;
        current = b;
        show(true, _("Checked in"), [_("%(name)s · party of %(num)s", { name: res.body.resident, num: b.party_size }),
          b.offering.title + " · " + storeTime(b.slot.starts_at, true),
          _("Collect %(amount)s", { amount: money(res.body.collect) })]);
        refreshRoster();
        document.getElementById("pay-amount").value = res.body.collect.amount;
        payForm.classList.remove("d-none");
        document.getElementById("payment-result").textContent = "";
      } else {
        var e = res.body.error || {};
        var extra = [];
        if (e.code === "already_checked_in" && e.details && e.details.checked_in_at) {
          var at = storeTime(e.details.checked_in_at, true);
          extra.push(e.details.checked_in_by ? _("at %(time)s by %(name)s", { time: at, name: e.details.checked_in_by })
                                             : _("at %(time)s", { time: at }));
        }
        if (e.code === "outside_window" && e.details && e.details.opens_at) {
          extra.push(e.details.too_early
            ? _("Check-in opens %(time)s (%(zone)s)", { time: storeTime(e.details.opens_at), zone: zone })
            : _("The visit ended %(time)s (%(zone)s)", { time: storeTime(e.details.closes_at), zone: zone }));
        }
        show(false, reasons[e.code] || e.message || _("Refused"), extra);
        payForm.classList.add("d-none");
      }
    }).catch(function () {
      show(false, _("No connection"), [_("Check the network and scan again.")]);
    }).then(function () { busy = false; input.value = ""; input.focus(); });
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); submit(input.value.trim()); });

  payForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    api("/api/v1/bookings/" + current.id + "/payments", {
      amount: document.getElementById("pay-amount").value.trim(),
      method: document.getElementById("pay-method").value,
      note: document.getElementById("pay-note").value
    }).then(function (res) {
      var out = document.getElementById("payment-result");
      if (res.ok) {
        out.textContent = _("Recorded %(amount)s.", { amount: money(res.body) }); out.className = "small mt-2 text-success fw-semibold";
        refreshRoster();
      }
      else {
        var e = res.body.error || {};
        out.textContent = e.details ? Object.keys(e.details).map(function (k) { return k + ": " + e.details[k]; }).join("; ") : e.message;
        out.className = "small mt-2 text-danger";
      }
    });
  });

  // Camera scanning with jsQR (vendored): decode frames until a code appears.
  var video = document.getElementById("scan-video"), canvas = document.getElementById("scan-canvas");
  var stream = null;
  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.classList.add("d-none");
  }
  function tick() {
    if (!stream) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var found = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (found && found.data) { stop(); submit(found.data); return; }
    }
    requestAnimationFrame(tick);
  }
  document.getElementById("scan-button").addEventListener("click", function () {
    if (stream) { stop(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      show(false, _("No camera"), [_("Type the code instead.")]); return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s; video.srcObject = s; video.classList.remove("d-none"); video.play(); requestAnimationFrame(tick);
    }).catch(function () { show(false, _("Camera not available"), [_("Type the code instead.")]); });
  });

  // The counter code rotates every minute.
  var codeBox = document.getElementById("counter-code");
  var left = Number(codeBox.dataset.secondsLeft);
  setInterval(function () {
    left -= 1;
    if (left <= 0) {
      fetch("/api/v1/stores/" + storeId + "/checkin-code").then(function (r) { return r.json(); }).then(function (j) {
        codeBox.querySelector("[data-testid=store-code]").textContent = j.code;
        left = j.seconds_left;
      });
      left = 60;
    }
    document.getElementById("code-seconds").textContent = Math.max(left, 0);
  }, 1000);
})();
