// Hearts and follow buttons: forms that work without JS (POST + redirect back); with JS, the same POST by
// fetch and the button flips in place. Anonymous visitors still go to the login page and come back.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-fav-toggle]")) return;
    var button = form.querySelector("button[aria-pressed]");
    if (!button || !window.fetch) return;
    event.preventDefault();
    button.disabled = true;
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/auth/login") !== -1) {
          window.location.assign(response.url);
          return;
        }
        if (!response.ok) { form.submit(); return; }
        var on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", on ? "true" : "false");
        button.textContent = on ? button.dataset.on : button.dataset.off;
        button.classList.toggle(button.dataset.onClass, on);
        button.classList.toggle(button.dataset.offClass, !on);
      })
      .catch(function () { form.submit(); })
      .finally(function () { button.disabled = false; });
  });
})();
