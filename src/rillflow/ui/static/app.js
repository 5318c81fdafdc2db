// rillflow ui: live updates. The page names its event stream in <body data-live="...">; on each "update"
// the page is fetched again and its <main> swapped in, unless the user is typing in a form.
(function () {
  "use strict";
  var live = document.body.getAttribute("data-live");
  if (!live || !window.EventSource) {
    return;
  }
  var source = new EventSource(live);
  var busy = false;
  var again = false;

  function typing() {
    var el = document.activeElement;
    return el && el.closest && el.closest("form") && (el.tagName === "TEXTAREA" || el.tagName === "INPUT");
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main && !typing()) {
          main.replaceWith(fresh);
        }
        if (!doc.body.getAttribute("data-live")) {
          source.close();
        }
      })
      .catch(function () { /* the next update tries again */ })
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  source.addEventListener("update", refresh);
})();
