// The request page follows its request live: each update event from the server (SSE)
// reloads the progress block, without reloading the page.
(function () {
  "use strict";
  var page = document.getElementById("request");
  if (!page || !window.EventSource) { return; }
  var progress = document.getElementById("progress");
  var source = new EventSource(page.dataset.stream);
  // Reload when the request differs from what the block shows (the first event may already
  // carry changes made between the page's rendering and the stream's start).
  function differs(view) {
    var shown = document.getElementById("shown");
    if (!shown || !view || !view.timeline) { return true; }
    return shown.dataset.status !== view.status ||
      shown.dataset.steps !== String(view.timeline.length);
  }
  source.addEventListener("update", function (event) {
    var view = null;
    try { view = JSON.parse(event.data); } catch (e) { view = null; }
    if (!differs(view)) { return; }
    fetch(page.dataset.progress, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { progress.innerHTML = html; } })
      // A reload cut short (the page is being left, the network dropped) keeps the block
      // as it is; the next update event brings it up to date.
      .catch(function () {});
  });
})();

// Browser push (Web Push, VAPID): offered where the server has a key and the browser can.
// The subscription goes to the portal (/push), which stores it for the signed-in customer.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window)) { return; }
  var button = document.getElementById("push-toggle");
  var state = document.getElementById("push-state");
  var text = box.dataset;

  function key(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function post(url, subscription) {
    var body = subscription.toJSON();
    body.csrf = text.csrf;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { if (!r.ok) { throw new Error("push " + r.status); } });
  }

  function show(on) {
    box.dataset.state = on ? "on" : "off";
    button.textContent = on ? text.textOff : text.textOn;
    state.textContent = on ? text.textIsOn : "";
  }

  navigator.serviceWorker.register(text.worker, { scope: "/" }).then(function (registration) {
    box.hidden = false;
    registration.pushManager.getSubscription().then(function (s) { show(!!s); });
    button.addEventListener("click", function () {
      button.disabled = true;
      registration.pushManager.getSubscription().then(function (current) {
        if (current) {
          return post(text.off, current).then(function () { return current.unsubscribe(); })
            .then(function () { show(false); });
        }
        return Notification.requestPermission().then(function (permission) {
          if (permission !== "granted") { state.textContent = text.textDenied; return; }
          return registration.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: key(text.key)
          }).then(function (s) { return post(text.on, s); }).then(function () { show(true); });
        });
      }).catch(function () { state.textContent = text.textFailed; })
        .then(function () { button.disabled = false; });
    });
  }).catch(function () { /* no service worker here (e.g. plain http): no push offer */ });
})();
