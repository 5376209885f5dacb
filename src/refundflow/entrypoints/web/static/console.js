// The console's small behaviours: live countdowns (amber in the last hour, red when late),
// the CSRF header on htmx requests, "pick all" in queues, the scanner's focus, and the
// policy editor's operator pickers.
(function () {
  "use strict";
  var skew = 0;  // server clock minus this browser's clock
  function setSkew() {
    var table = document.querySelector("[data-now]");
    if (table) { skew = Date.parse(table.getAttribute("data-now")) - Date.now(); }
  }
  function fmt(seconds) {
    var s = Math.abs(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (seconds < 0 ? "-" : "") + h + "h" + (m < 10 ? "0" : "") + m + "m";
  }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = Math.round((due - now) / 1000);
      var row = el.closest("tr");
      var late = left < 0, soon = !late && left < 3600;
      el.classList.toggle("late", late);
      el.classList.toggle("soon", soon);
      if (row) { row.classList.toggle("late", late); row.classList.toggle("soon", soon); }
      if (el.classList.contains("left")) { el.textContent = fmt(left); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    setSkew();
    tick();
    setInterval(tick, 30000);
    var all = document.getElementById("pick-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=item]").forEach(function (box) { box.checked = all.checked; });
      });
    }
    var scan = document.querySelector("[data-keep-focus]");
    if (scan) { scan.focus(); }
  });
  // The policy editor: a condition's operator list offers only what fits the chosen fact.
  function fitOperators(factSelect) {
    var row = factSelect.closest("tr");
    var ops = row && row.querySelector("select[name^=operator_]");
    var chosen = factSelect.options[factSelect.selectedIndex];
    if (!ops || !chosen) { return; }
    var allowed = (chosen.getAttribute("data-operators") || "").split(" ");
    Array.prototype.forEach.call(ops.options, function (option) {
      option.disabled = chosen.value !== "" && allowed.indexOf(option.value) < 0;
    });
    var value = row.querySelector("input[name^=value_]");
    if (value) {
      if (document.getElementById("values-" + chosen.value)) {
        value.setAttribute("list", "values-" + chosen.value);
      } else {
        value.removeAttribute("list");
      }
    }
    if (ops.selectedOptions.length && ops.selectedOptions[0].disabled) {
      var first = Array.prototype.find.call(ops.options, function (o) { return !o.disabled; });
      if (first) { ops.value = first.value; }
    }
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[name^=fact_]")) { fitOperators(target); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[name^=fact_]").forEach(fitOperators);
  });
  // Refused input (422) comes back as a fragment that explains why: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector("meta[name=csrf-token]");
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });
})();
