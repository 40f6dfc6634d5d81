/**
 * The script of the HTML report, run in the browser that opens it. It is a plain string (not a
 * compiled function's toString) so bundlers cannot slip helper calls into it; it uses no template
 * literals for the same reason this file does not interpolate. Everything from the report reaches
 * the DOM through textContent, or as tooltip HTML that src/shared/present/charts.ts escaped when
 * it built the options (escapeTip): layer ids and model names are user input.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
'use strict';
var report = JSON.parse(document.getElementById('convscope-report').textContent);
var rows = report.layers;

// ---- table: sorting and highlighting ----
var table = document.getElementById('layers');
var tbody = table.tBodies[0];
var trByRow = [];
Array.prototype.forEach.call(tbody.rows, function (tr) { trByRow[Number(tr.getAttribute('data-i'))] = tr; });
var current = null;
var charts = [];

function select(i, fromTable) {
  var tr = trByRow[i];
  if (!tr) return;
  if (current) current.classList.remove('hl');
  current = tr;
  tr.classList.add('hl');
  if (!fromTable) tr.scrollIntoView({ block: 'center' });
  var status = document.getElementById('selected');
  status.textContent = rows[i].id;
  charts.forEach(function (c) {
    if (!c.byRow) return;
    c.chart.dispatchAction({ type: 'downplay' });
    var hit = c.byRow(i);
    if (hit) c.chart.dispatchAction({ type: 'highlight', seriesIndex: hit[0], dataIndex: hit[1] });
  });
}

tbody.addEventListener('click', function (e) {
  var tr = e.target.closest('tr');
  if (tr) select(Number(tr.getAttribute('data-i')), true);
});

var ths = table.tHead.rows[0].cells;
Array.prototype.forEach.call(ths, function (th, col) {
  th.tabIndex = 0;
  function sort() {
    var numeric = th.getAttribute('data-type') === 'num';
    // Numbers sort largest first (what costs most is what a reader looks for), text A to Z;
    // a second click reverses.
    var was = th.getAttribute('aria-sort');
    var dir = was ? (was === 'ascending' ? -1 : 1) : (numeric ? -1 : 1);
    Array.prototype.forEach.call(ths, function (o) { o.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var list = Array.prototype.slice.call(tbody.rows);
    function key(tr) {
      var cell = tr.cells[col];
      var v = cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent;
      if (!numeric) return v;
      return v === '' ? null : Number(v);
    }
    list.sort(function (a, b) {
      var x = key(a), y = key(b);
      // Missing values (no timing) stay at the bottom whichever way the column sorts.
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      if (numeric) return (x - y) * dir;
      return x.localeCompare(y) * dir;
    });
    list.forEach(function (tr) { tbody.appendChild(tr); });
  }
  th.addEventListener('click', sort);
  th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
});

// ---- charts ----
// The options were built by the same code as the workbench's (src/shared/present/charts.ts);
// tooltips are text on each data item, read back by these twins of TOOLTIP_FUNCTIONS.
if (typeof echarts === 'undefined') return;
var FNS = {
  tipItem: function (p) { return (p.data && p.data.tip) || ''; },
  tipAxis: function (ps) { return (ps[0] && ps[0].data && ps[0].data.tip) || ''; },
};
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    if (typeof v.$fn === 'string' && Object.keys(v).length === 1) return FNS[v.$fn];
    var o = {};
    Object.keys(v).forEach(function (k) { o[k] = revive(v[k]); });
    return o;
  }
  return v;
}
var options = JSON.parse(document.getElementById('convscope-charts').textContent);

// Where each report row is drawn in a chart, [seriesIndex, dataIndex], from the items' row index.
function rowIndex(option) {
  var at = {};
  (option.series || []).forEach(function (s, si) {
    (s.data || []).forEach(function (d, di) { if (d && typeof d.row === 'number' && !(d.row in at)) at[d.row] = [si, di]; });
  });
  return at;
}

function mount(id) {
  var el = document.getElementById(id);
  var set = options[id];
  if (!el || !set) return;
  var chart = echarts.init(el, null, { renderer: 'canvas' });
  var entry = { chart: chart, option: null, at: {} };
  function show(which) {
    var option = revive(set[which] || set.linear);
    option.animation = false;
    entry.option = option;
    entry.at = rowIndex(option);
    chart.setOption(option, { notMerge: true });
  }
  show('linear');
  entry.byRow = function (i) { return entry.at[i] || null; };
  charts.push(entry);
  var toggle = document.querySelector('input[data-log="' + id + '"]');
  if (toggle && set.log) toggle.addEventListener('change', function () { show(toggle.checked ? 'log' : 'linear'); });
  chart.on('click', function (p) {
    if (p.data && typeof p.data.row === 'number' && p.data.row >= 0) select(p.data.row, false);
  });
  // On a per-op axis a click anywhere in an op's column selects it: most bars are too thin to hit.
  if (entry.option.xAxis && entry.option.xAxis.type === 'category') {
    chart.getZr().on('click', function (e) {
      var pt = [e.offsetX, e.offsetY];
      if (!chart.containPixel('grid', pt)) return;
      var x = chart.convertFromPixel({ xAxisIndex: 0 }, pt[0]);
      var item = typeof x === 'number' ? entry.option.series[0].data[Math.round(x)] : null;
      if (item && typeof item.row === 'number') select(item.row, false);
    });
  }
}
['chart-flops', 'chart-params', 'chart-time', 'chart-share', 'chart-roofline', 'chart-memory'].forEach(mount);

// Printing lays the charts out at the paper's width: redraw them at their new size, and back.
function resizeAll() { charts.forEach(function (c) { c.chart.resize(); }); }
if (window.matchMedia) {
  var print = window.matchMedia('print');
  if (print.addEventListener) print.addEventListener('change', resizeAll);
}
window.addEventListener('beforeprint', resizeAll);
window.addEventListener('afterprint', resizeAll);

window.addEventListener('resize', resizeAll);
})();
`;
