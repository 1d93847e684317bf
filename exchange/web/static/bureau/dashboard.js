// The bureau's dashboard charts, drawn with the vendored ECharts from the figures the page embeds.
// Without JavaScript (or ECharts) the same figures stay readable in the lists and the table.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent), charts = [];
  function draw(id, option) {
    var box = document.getElementById(id);
    if (!box) return;
    var chart = window.echarts.init(box, null, {renderer: "svg"});
    chart.setOption(Object.assign({animation: false, tooltip: {}}, option));
    charts.push(chart);
  }
  function bars(labels, values, color, extra) {
    return Object.assign({grid: {left: 8, right: 16, top: 24, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: labels, axisLabel: {interval: 0, rotate: labels.length > 4 ? 30 : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "bar", data: values, itemStyle: {color: color}, label: {show: true, position: "top"}}]}, extra || {});
  }
  function rates(chart, color) {
    return bars(chart.departments, chart.rates, color, {yAxis: {type: "value", max: 100, name: chart.title}});
  }
  function pie(items) {
    return {series: [{type: "pie", radius: ["35%", "65%"], data: items, label: {formatter: "{b}: {c}"}}]};
  }
  function lines(trend) {
    return {tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: trend.days}, yAxis: {type: "value", max: 100, name: "%"},
      series: trend.series.map(function (s) { return {type: "line", name: s.name, data: s.data, connectNulls: true}; })};
  }
  draw("chart-mounted", rates(data.mounted, "#b4232a"));
  draw("chart-timely", rates(data.timely, "#1a5fb4"));
  draw("chart-trend", lines(data.trend));
  draw("chart-flags", pie(data.flags));
  draw("chart-ages", bars(data.ages.labels, data.ages.values, "#a61b1b"));
  draw("chart-unmet", pie(data.unmet));
  draw("chart-matches", bars(data.matches.labels, data.matches.values, "#2e7d32"));
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.dataset.chartsReady = String(charts.length);
})();
