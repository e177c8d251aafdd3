// A store's inbox, live: the store stream says "a thread changed" (Server-Sent Events; polling every 10 s
// when it cannot connect), and the list is read again from the page itself, filters and all.
(function () {
  "use strict";
  var list = document.querySelector("[data-inbox-stream]");
  if (!list) return;
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-inbox-stream]");
        if (fresh) list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(function () { /* the next change or poll tries again */ })
      .finally(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var polling = null, failures = 0;
  function startPolling() { if (!polling) polling = setInterval(refresh, 10000); }
  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    var source = new EventSource(list.dataset.inboxStream);
    source.addEventListener("changed", function () { failures = 0; refresh(); });
    source.onopen = function () {
      if (failures || polling) refresh();  // reconnected: whatever changed meanwhile
      failures = 0;
      if (polling) { clearInterval(polling); polling = null; }
    };
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
})();
