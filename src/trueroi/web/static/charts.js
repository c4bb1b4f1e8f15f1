/* trueroi: draws every chart of a page with plotly.js (bundled with the package; no CDN).
   A chart is <div class="chart" data-chart="ID"> beside <script type="application/json" id="ID">, which
   holds {"data": [...], "layout": {...}} from the server. Charts swapped in by htmx are drawn too. */
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") { return; }
    root.querySelectorAll("div.chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      el.dataset.drawn = "1";
      Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.detail.elt || document); });
  /* A file input names the files chosen (several at once) next to it. */
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-names]")) { return; }
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    var out = document.getElementById(input.dataset.names);
    if (out) { out.textContent = names.join(", "); }
  });
})();
