/* The live page: numbers pushed by the server as server-sent events (/w/WS/live/events), drawn with
 * textContent only (names from the data are never parsed as HTML). EventSource reconnects by itself. */
(function () {
  'use strict';
  var root = document.getElementById('live');
  if (!root || !window.EventSource) return;
  var MEASURES = [['sessions', 'count'], ['orders', 'count'], ['revenue', 'money'], ['conversions', 'count'], ['spend', 'money']];

  function fmt(value, kind) {
    if (value === null || value === undefined) return '\u2013';
    if (kind === 'count') return Math.round(value).toLocaleString('en-US');
    var digits = Math.abs(value) >= 100 ? 0 : 2;
    return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function field(name, text) {
    var el = root.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = text;
  }
  function row(data) {
    var tr = document.createElement('tr');
    var cells = [[data.channel, null]].concat(MEASURES.map(function (m) { return [data[m[0]], m[1]]; }));
    cells.forEach(function (cell, i) {
      var td = document.createElement('td');
      td.textContent = i === 0 ? String(cell[0]) : fmt(cell[0], cell[1]);
      if (i > 0) td.className = 'num';
      tr.appendChild(td);
    });
    return tr;
  }
  function draw(live) {
    Object.keys(live.windows).forEach(function (name) {
      var body = root.querySelector('table[data-window="' + name + '"] tbody');
      if (!body) return;
      var win = live.windows[name];
      var rows = win.rows.concat([win.total]);
      body.replaceChildren.apply(body, rows.map(row));
    });
    field('at', live.at);
    field('page_views_last_30_minutes', fmt(live.page_views_last_30_minutes, 'count'));
    root.setAttribute('data-updated', live.at);
  }
  var source = new EventSource(root.getAttribute('data-stream'));
  source.onopen = function () { field('status', 'live'); };
  source.onerror = function () { field('status', 'reconnecting\u2026'); };
  source.onmessage = function (message) { draw(JSON.parse(message.data)); };
})();
