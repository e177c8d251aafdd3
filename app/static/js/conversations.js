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
  document.querySelectorAll(".quick-reply").forEach(function (button) {
    button.addEventListener("click", function () { input.value = button.dataset.body; input.focus(); });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    error.textContent = "";
    fetch("/api/v1/conversations/" + id + "/messages", { method: "POST", body: JSON.stringify({ body: text }),
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (res.ok) { input.value = ""; show(res.body); return; }
        var e = res.body.error || {};
        error.textContent = e.message || _("Could not send. Try again.");
      })
      .catch(function () { error.textContent = _("Could not reach Onsite. Try again."); });
  });
})();
