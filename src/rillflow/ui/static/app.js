// rillflow ui: live updates. The page names its event stream in <body data-live="...">; on each "update"
// with a version the page has not seen, the page is fetched again and its <main> swapped in, unless the
// user has started filling in a form.
(function () {
  "use strict";
  var live = document.body.getAttribute("data-live");
  if (!live || !window.EventSource) {
    return;
  }
  var source = new EventSource(live);
  var busy = false;
  var again = false;

  var version = document.body.getAttribute("data-version");
  var edited = false; // the user touched a form: never swap it away under them
  document.addEventListener("input", function () { edited = true; });
  document.addEventListener("toggle", function () { edited = true; }, true);

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
        if (fresh && main && !edited) {
          main.replaceWith(fresh);
          version = doc.body.getAttribute("data-version");
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

  source.addEventListener("update", function (event) {
    if (event.data !== version) {
      refresh();
    }
  });
})();
