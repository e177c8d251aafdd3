// A conversation, live: Server-Sent Events (falls back to polling ?since=), each message shown once (by seq).
(function () {
  "use strict";
  var _ = window.I18N.gettext;
  var box = document.getElementById("thread");
  if (!box) return;
  var id = box.dataset.conversationId;
  var side = box.dataset.side;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var last = parseInt(box.dataset.lastSeq, 10) || 0;
  var shown = {};
  box.querySelectorAll("[data-seq]").forEach(function (el) { shown[el.dataset.seq] = true; });

  function show(m) {
    if (shown[m.seq]) return;
    shown[m.seq] = true;
    var card = document.createElement("div");
    card.className = "card card-body mb-2 " + (m.sender_side === side ? "ms-5 text-bg-light" : "me-5");
    card.dataset.seq = m.seq;
    var body = document.createElement("div");
    body.className = "msg-body";
    body.style.whiteSpace = "pre-wrap";
    body.textContent = m.body;
    card.appendChild(body);
    if (m.photos && m.photos.length) {
      var strip = document.createElement("div");
      strip.className = "d-flex flex-wrap gap-2 mt-2 msg-photos";
      m.photos.forEach(function (p) {
        var link = document.createElement("a"), img = document.createElement("img");
        link.href = p.url;
        img.src = p.thumb;
        img.alt = _("Photo");
        img.width = 120;
        img.className = "rounded border";
        link.appendChild(img);
        strip.appendChild(link);
      });
      card.appendChild(strip);
    }
    box.appendChild(card);
    if (m.seq > last) last = m.seq;
    markRead();
  }
  var readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      fetch("/api/v1/conversations/" + id + "/read", { method: "POST", body: JSON.stringify({ seq: last }),
        headers: { "Content-Type": "application/json", "X-CSRFToken": token } });
    }, 300);
  }
  var polling = null;
  function poll() {
    fetch("/api/v1/conversations/" + id + "/messages?since=" + last, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (page) { (page.items || []).forEach(show); })
      .catch(function () {});
  }
  function startPolling() { if (!polling) polling = setInterval(poll, 3000); }
  var failures = 0;
  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    // The browser resends Last-Event-ID on its own reconnects; since= covers a fresh connection.
    var source = new EventSource("/api/v1/conversations/" + id + "/stream?since=" + last);
    source.addEventListener("message", function (e) { failures = 0; show(JSON.parse(e.data)); });
    source.onopen = function () { failures = 0; if (polling) { clearInterval(polling); polling = null; } };
    source.onerror = function () {
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures > 3) {
        source.close();
        startPolling();
        setTimeout(function () { failures = 0; connect(); }, 30000);
      }
    };
  }
  connect();
  markRead();

  var form = document.getElementById("send-form");
  if (!form) return;
  var input = document.getElementById("send-body");
  var error = document.getElementById("send-error");
  var photos = document.getElementById("send-photos");
  document.querySelectorAll(".quick-reply").forEach(function (button) {
    button.addEventListener("click", function () { input.value = button.dataset.body; input.focus(); });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    error.textContent = "";
    var files = photos && photos.files.length ? Array.prototype.slice.call(photos.files) : [];
    var request;
    if (files.length) {  // with photos: multipart to the photo endpoint
      var data = new FormData();
      data.append("body", text);
      files.forEach(function (file) { data.append("photos", file, file.name); });
      request = fetch("/api/v1/conversations/" + id + "/photo-messages", { method: "POST", body: data,
        headers: { "X-CSRFToken": token, Accept: "application/json" } });
    } else {
      request = fetch("/api/v1/conversations/" + id + "/messages", { method: "POST", body: JSON.stringify({ body: text }),
        headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" } });
    }
    request
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (res.ok) { input.value = ""; if (photos) photos.value = ""; show(res.body); return; }
        var e = res.body.error || {};
        error.textContent = e.message || _("Could not send. Try again.");
      })
      .catch(function () { error.textContent = _("Could not reach Onsite. Try again."); });
  });
})();
