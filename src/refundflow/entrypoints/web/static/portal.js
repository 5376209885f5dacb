// The request page follows its request live: each update event from the server (SSE)
// reloads the progress block, without reloading the page.
(function () {
  "use strict";
  var page = document.getElementById("request");
  if (!page || !window.EventSource) { return; }
  var progress = document.getElementById("progress");
  var source = new EventSource(page.dataset.stream);
  var first = true;
  source.addEventListener("update", function () {
    if (first) { first = false; return; }  // the page already shows the first state
    fetch(page.dataset.progress, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { progress.innerHTML = html; } })
      // A reload cut short (the page is being left, the network dropped) keeps the block
      // as it is; the next update event brings it up to date.
      .catch(function () {});
  });
})();
