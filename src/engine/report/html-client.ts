/**
 * The script of the HTML report, run in the browser that opens it. It is a plain string (not a
 * compiled function's toString) so bundlers cannot slip helper calls into it; it uses no template
 * literals for the same reason this file does not interpolate. Everything from the report reaches
 * the DOM through textContent or esc(): layer ids and model names are user input.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
'use strict';
var report = JSON.parse(document.getElementById('convscope-report').textContent);
var memory = JSON.parse(document.getElementById('convscope-memory').textContent);
var rows = report.layers;
var timed = rows.length > 0 && rows.every(function (r) { return r.time_ms !== null; });

function esc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}
function si(n, unit) {
  var a = Math.abs(n), p = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (var i = 0; i < p.length; i++) if (a >= p[i][0]) return (n / p[i][0]).toFixed(2) + ' ' + p[i][1] + unit;
  return (Number.isInteger(n) ? String(n) : n.toPrecision(3)) + (unit ? ' ' + unit : '');
}
function bytes(n) {
  var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], v = n, i = 0;
  while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return i === 0 ? n + ' B' : v.toFixed(2) + ' ' + u[i];
}
function ms(v) { return v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3); }
function shape(s) { return s.join('x'); }

var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#2f4b7c', '#a05195'];
var opColors = {};
rows.forEach(function (r) { if (!(r.op in opColors)) opColors[r.op] = PALETTE[Object.keys(opColors).length % PALETTE.length]; });
function color(op) { return opColors[op] || '#888'; }

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
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
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
if (typeof echarts === 'undefined') return;
var ids = rows.map(function (r) { return r.id; });
var many = rows.length > 40;

function init(id) {
  var el = document.getElementById(id);
  if (!el) return null;
  return echarts.init(el, null, { renderer: 'canvas' });
}
function register(chart, byRow, toRow) {
  charts.push({ chart: chart, byRow: byRow });
  chart.on('click', function (p) {
    var i = toRow(p);
    if (i !== null && i !== undefined) select(i, false);
  });
}
// On a per-op axis a click anywhere in an op's column selects it: most bars are too thin to hit.
function registerColumns(chart) {
  charts.push({ chart: chart, byRow: function (i) { return [0, i]; } });
  chart.getZr().on('click', function (e) {
    var pt = [e.offsetX, e.offsetY];
    if (!chart.containPixel('grid', pt)) return;
    var i = chart.convertFromPixel({ xAxisIndex: 0 }, pt[0]);
    if (typeof i === 'number' && i >= 0 && i < rows.length) select(Math.round(i), false);
  });
}
function zoom() {
  return many ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 6 }] : [];
}
function categoryAxis() {
  return {
    type: 'category', data: ids,
    axisLabel: { rotate: 55, fontSize: 10, color: '#555', formatter: function (v) { return v.length > 22 ? v.slice(0, 21) + '…' : v; } },
    axisTick: { alignWithLabel: true },
  };
}
function rowTip(i, extra) {
  var r = rows[i];
  return '<b>' + esc(r.id) + '</b> <span style="color:#777">' + esc(r.op) + '</span><br>' + extra;
}

function barChart(id, values, unit, label) {
  var chart = init(id);
  if (!chart) return;
  chart.setOption({
    animation: false,
    grid: { left: 64, right: 16, top: 16, bottom: many ? 110 : 90 },
    tooltip: {
      trigger: 'item',
      formatter: function (p) { return rowTip(p.dataIndex, esc(label) + ': ' + esc(si(values[p.dataIndex], unit)) + ' (' + esc(values[p.dataIndex].toLocaleString('en-US')) + ')'); },
    },
    xAxis: categoryAxis(),
    yAxis: { type: 'value', axisLabel: { formatter: function (v) { return si(v, ''); } } },
    dataZoom: zoom(),
    series: [{
      type: 'bar', name: label,
      data: values.map(function (v, i) { return { value: v, itemStyle: { color: color(rows[i].op) } }; }),
      emphasis: { itemStyle: { borderColor: '#111', borderWidth: 2 } },
    }],
  });
  registerColumns(chart);
}

barChart('chart-flops', rows.map(function (r) { return r.flops; }), 'FLOPs', 'FLOPs');
barChart('chart-params', rows.map(function (r) { return r.params; }), 'params', 'params');

if (timed) {
  var tchart = init('chart-time');
  if (tchart) {
    tchart.setOption({
      animation: false,
      grid: { left: 64, right: 16, top: 30, bottom: many ? 110 : 90 },
      legend: { top: 0, data: ['median', 'p10–p90'] },
      tooltip: {
        trigger: 'item',
        formatter: function (p) {
          var r = rows[p.dataIndex], t = r.time_ms;
          // An op run inside another's kernel has no time of its own; the op it ran in names it.
          if (r.fused_into) return rowTip(p.dataIndex, 'ran inside ' + esc(r.fused_into) + '\'s kernel: its time is there');
          var inside = rows.filter(function (x) { return x.fused_into === r.id; }).map(function (x) { return esc(x.id); });
          return rowTip(p.dataIndex, 'median ' + ms(t.median) + ' ms<br>p10 ' + ms(t.p10) + ' ms, p90 ' + ms(t.p90) + ' ms' + (inside.length ? '<br>includes ' + inside.join(', ') + ' (fused)' : ''));
        },
      },
      xAxis: categoryAxis(),
      yAxis: { type: 'value', name: 'ms', axisLabel: { formatter: function (v) { return ms(v); } } },
      dataZoom: zoom(),
      series: [
        {
          type: 'bar', name: 'median',
          data: rows.map(function (r) { return { value: r.time_ms.median, itemStyle: { color: color(r.op) } }; }),
          emphasis: { itemStyle: { borderColor: '#111', borderWidth: 2 } },
        },
        {
          type: 'custom', name: 'p10–p90', z: 10,
          itemStyle: { color: '#333' },
          renderItem: function (params, api) {
            var x = api.value(0);
            var lo = api.coord([x, api.value(1)]);
            var hi = api.coord([x, api.value(2)]);
            var w = Math.max(2, api.size([1, 0])[0] * 0.2);
            var st = { stroke: '#333', lineWidth: 1 };
            return {
              type: 'group',
              children: [
                { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: st },
                { type: 'line', shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style: st },
                { type: 'line', shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style: st },
              ],
            };
          },
          encode: { x: 0, y: [1, 2] },
          data: rows.map(function (r, i) { return [i, r.time_ms.p10, r.time_ms.p90]; }),
        },
      ],
    });
    registerColumns(tchart);
  }
}

// Share of time grouped by the layer the user placed; FLOPs stand in when there are no times.
(function () {
  var chart = init('chart-share');
  if (!chart) return;
  var metric = timed ? function (r) { return r.time_ms.median; } : function (r) { return r.flops; };
  var total = rows.reduce(function (s, r) { return s + metric(r); }, 0) || 1;
  var groups = [];
  var byLayer = {};
  rows.forEach(function (r, i) {
    var leaf = { name: r.id, value: metric(r), row: i, itemStyle: { color: color(r.op) } };
    if (r.block === null && r.id === r.layer) { groups.push(leaf); return; }
    var g = byLayer[r.layer];
    if (!g) { g = byLayer[r.layer] = { name: r.layer, value: 0, children: [], row: i }; groups.push(g); }
    g.value += leaf.value;
    g.children.push(leaf);
  });
  chart.setOption({
    animation: false,
    tooltip: {
      formatter: function (p) {
        var v = p.value;
        var what = timed ? ms(v) + ' ms' : si(v, 'FLOPs');
        return '<b>' + esc(p.name) + '</b><br>' + esc(what) + ' (' + (100 * v / total).toFixed(1) + '%)';
      },
    },
    series: [{
      type: 'treemap', data: groups, roam: false, nodeClick: false, breadcrumb: { show: false },
      top: 4, left: 4, right: 4, bottom: 4,
      label: { show: true, formatter: '{b}', fontSize: 11 },
      upperLabel: { show: true, height: 16, color: '#fff', fontSize: 11 },
      // Level 0 is the whole map, level 1 the layers (a block's header shows its name), level 2 its ops.
      levels: [
        { itemStyle: { borderWidth: 0, gapWidth: 3 }, upperLabel: { show: false } },
        { itemStyle: { borderColor: '#8a94a6', borderWidth: 2, gapWidth: 1 } },
        { itemStyle: { borderColor: '#fff', borderWidth: 1 } },
      ],
    }],
  });
  register(chart, null, function (p) { return p.data && typeof p.data.row === 'number' ? p.data.row : null; });
})();

// Roofline-style: where each op sits between memory-bound (left) and compute-bound (right).
(function () {
  if (!timed) return;
  var chart = init('chart-roofline');
  if (!chart) return;
  var maxFlops = rows.reduce(function (m, r) { return Math.max(m, r.flops); }, 1);
  var seriesByOp = {};
  var series = [];
  var where = [];
  rows.forEach(function (r, i) {
    if (!(r.arithmetic_intensity > 0) || !(r.gflops_per_s > 0)) return;
    var s = seriesByOp[r.op];
    if (!s) {
      s = seriesByOp[r.op] = { type: 'scatter', name: r.op, data: [], itemStyle: { color: color(r.op), opacity: 0.8 },
        emphasis: { itemStyle: { borderColor: '#111', borderWidth: 2 } },
        symbolSize: function (v) { return 6 + 18 * Math.sqrt(rows[v[2]].flops / maxFlops); } };
      series.push(s);
    }
    where[i] = [series.indexOf(s), s.data.length];
    s.data.push([r.arithmetic_intensity, r.gflops_per_s, i]);
  });
  chart.setOption({
    animation: false,
    legend: { type: 'scroll', top: 0 },
    grid: { left: 72, right: 24, top: 40, bottom: 48 },
    tooltip: {
      trigger: 'item',
      formatter: function (p) {
        var i = p.value[2];
        return rowTip(i, esc(p.value[0].toPrecision(3)) + ' FLOP/byte<br>' + esc(p.value[1].toPrecision(3)) + ' GFLOP/s<br>' + esc(si(rows[i].flops, 'FLOPs')));
      },
    },
    xAxis: { type: 'log', name: 'arithmetic intensity (FLOP/byte)', nameLocation: 'middle', nameGap: 28, minorSplitLine: { show: true } },
    yAxis: { type: 'log', name: 'achieved GFLOP/s', nameLocation: 'middle', nameGap: 50, minorSplitLine: { show: true } },
    series: series,
  });
  register(chart, function (i) { return where[i] || null; }, function (p) { return p.value[2]; });
})();

// Live activation memory over execution order (computed by the renderer from the rows).
(function () {
  var chart = init('chart-memory');
  if (!chart) return;
  var live = memory.mode === 'live';
  chart.setOption({
    animation: false,
    grid: { left: 72, right: 16, top: 24, bottom: many ? 110 : 90 },
    tooltip: {
      trigger: 'axis',
      formatter: function (ps) {
        var i = ps[0].dataIndex, s = memory.steps[i];
        return rowTip(i, (live ? 'live while it runs: ' : 'cumulative outputs: ') + esc(bytes(s.live)) +
          (live ? '<br>after it frees its inputs: ' + esc(bytes(s.after)) : ''));
      },
    },
    xAxis: categoryAxis(),
    yAxis: { type: 'value', axisLabel: { formatter: function (v) { return bytes(v); } } },
    dataZoom: zoom(),
    series: [{
      type: 'line', step: 'middle', symbol: 'none', name: 'live bytes',
      data: memory.steps.map(function (s) { return s.live; }),
      lineStyle: { color: '#4e79a7', width: 1.5 }, areaStyle: { color: 'rgba(78,121,167,0.25)' },
      markLine: { silent: true, symbol: 'none', lineStyle: { color: '#e15759', type: 'dashed' },
        label: { formatter: 'peak ' + bytes(memory.peak), position: 'insideEndTop' }, data: [{ yAxis: memory.peak }] },
    }],
  });
  registerColumns(chart);
})();

window.addEventListener('resize', function () { charts.forEach(function (c) { c.chart.resize(); }); });
})();
`;
