// Insights pages: the store picker opens the same view of another store.
(function () {
  "use strict";
  var pick = document.querySelector("[data-insights-store-pick]");
  if (pick) {
    pick.addEventListener("change", function () { window.location.assign(pick.value); });
  }
})();
