// The dashboard's charts (ECharts), drawn from the JSON in #dash-live's data-charts and
// drawn again each time htmx swaps in a fresh #dash-live (every 30 s).
(function () {
  "use strict";
  var charts = [];

  function bar(labels, series) {
    return {
      tooltip: { trigger: "axis" },
      legend: {},
      grid: { left: 48, right: 16, top: 32, bottom: 64, containLabel: true },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: series
    };
  }

  function draw() {
    charts.forEach(function (chart) { chart.dispose(); });
    charts = [];
    var live = document.getElementById("dash-live");
    if (!live || typeof echarts === "undefined") { return; }
    var data = JSON.parse(live.getAttribute("data-charts") || "{}");
    var names = {};
    document.querySelectorAll("[data-series-name]").forEach(function (el) {
      names[el.getAttribute("data-series-name")] = el.textContent;
    });
    live.querySelectorAll("[data-chart]").forEach(function (el) {
      var key = el.getAttribute("data-chart");
      var d = data[key];
      if (!d) { return; }
      var chart = echarts.init(el);
      var option;
      if (key === "daily") {
        option = bar(d.days, [
          { name: names.requests || "requests", type: "line", data: d.requests, smooth: true },
          { name: names.orders || "orders", type: "bar", data: d.orders },
          { name: names.refunded || "refunded", type: "line", data: d.refunded }
        ]);
      } else {
        option = bar(d.labels, [
          { name: names.requests || "requests", type: "bar", data: d.requests },
          { name: names.refunded || "refunded", type: "bar", data: d.refunded }
        ]);
      }
      chart.setOption(option);
      charts.push(chart);
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
