// The portal's service worker: shows the notifications refundflow pushes (Web Push) and
// opens the request when one is clicked. It caches nothing and intercepts no request.
"use strict";

self.addEventListener("push", function (event) {
  var message = { title: "refundflow", body: "", data: {} };
  try { message = event.data ? event.data.json() : message; } catch (e) {
    message.body = event.data ? event.data.text() : "";
  }
  var data = message.data || {};
  event.waitUntil(self.registration.showNotification(message.title || "refundflow", {
    body: message.body || "",
    data: data,
    tag: data.number || undefined
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var link = (event.notification.data || {}).link || "/";
  event.waitUntil(self.clients.openWindow(link));
});
