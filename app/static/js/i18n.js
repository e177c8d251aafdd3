// Onsite's strings for scripts: the page carries the translations of app/static/js's messages
// (app/i18n.py js_catalogue, from the same .po files as the pages); English is the msgid itself.
(function () {
  "use strict";
  var data = { locale: document.documentElement.lang || "en", plural: "en", messages: {} };
  var holder = document.getElementById("i18n-catalogue");
  if (holder) {
    try { data = JSON.parse(holder.textContent); } catch (error) { /* keep English */ }
  }

  function fill(text, params) {
    if (!params) return text;
    return text.replace(/%\(([a-z_]+)\)[sd]/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function gettext(msgid, params) {
    var found = data.messages[msgid];
    return fill(typeof found === "string" ? found : msgid, params);
  }

  function ngettext(singular, plural, n, params) {
    var values = Object.assign({ num: n }, params || {});
    var forms = data.messages[singular];
    if (Array.isArray(forms) && forms.length) {
      return fill(data.plural === "one" ? forms[0] : forms[n === 1 ? 0 : Math.min(1, forms.length - 1)], values);
    }
    return fill(n === 1 ? singular : plural, values);
  }

  window.I18N = { locale: data.locale, gettext: gettext, ngettext: ngettext };
})();
