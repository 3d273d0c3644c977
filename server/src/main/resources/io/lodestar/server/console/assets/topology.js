// The console's topology page: draws the call graph with ECharts from /ui/topology/data, every
// 5 s, and an edge's latency over time when #edge-detail is loaded. The circular layout keeps
// every service where it was across refreshes (a force layout would move them on each reload,
// under the operator's pointer).
(function () {
  'use strict';
  var graphEl = document.getElementById('topology-graph');
  if (!graphEl || !window.echarts) { return; }
  var graph = echarts.init(graphEl);

  function colour(rate) { return rate >= 0.05 ? '#c62828' : rate >= 0.01 ? '#9a6700' : '#1a7f37'; }
  function nodeColour(health) {
    return { healthy: '#1a7f37', degraded: '#9a6700', down: '#c62828' }[health] || '#5b6577';
  }
  function label(svc) { return svc === '' ? '(unnamed)' : svc; }
  function key(ns, svc, home) { return (ns === home ? '' : ns + '/') + label(svc); }

  function draw(t) {
    var home = t.namespace;
    var nodes = t.nodes.map(function (n) {
      return { name: key(n.namespace, n.service, home), value: n.instances,
               symbolSize: 28 + Math.min(24, 4 * n.instances),
               itemStyle: { color: nodeColour(n.health) },
               tooltip: { formatter: label(n.service) + ': ' + n.healthyInstances + '/' + n.instances + ' healthy' } };
    });
    var maxRps = t.edges.reduce(function (m, e) { return Math.max(m, e.rps); }, 0) || 1;
    var links = t.edges.map(function (e) {
      return { source: key(e.callerNamespace, e.caller, home), target: key(e.namespace, e.service, home),
               caller: e.caller, service: e.service, callerNamespace: e.callerNamespace,
               lineStyle: { color: colour(e.errorRate), width: 1.5 + 5 * e.rps / maxRps, curveness: 0.15 },
               label: { show: true, formatter: e.rps.toFixed(1) + '/s · ' + (100 * e.errorRate).toFixed(1) + '%' },
               tooltip: { formatter: label(e.caller) + ' → ' + e.service + '<br>' + e.rps.toFixed(2) + ' calls/s, '
                 + (100 * e.errorRate).toFixed(1) + ' % errors<br>p99 ' + (e.latencyMs.p99 === null ? '—' : e.latencyMs.p99 + ' ms') } };
    });
    graph.setOption({
      tooltip: {},
      animationDurationUpdate: 300,
      series: [{ type: 'graph', layout: 'circular', circular: { rotateLabel: false }, roam: true,
                 label: { show: true, position: 'bottom' }, emphasis: { focus: 'adjacency' },
                 edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 9, data: nodes, links: links }]
    });
  }

  function load() {
    fetch(graphEl.dataset.src, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (t) { if (t) { draw(t); graphEl.dataset.edges = String(t.edges.length); } })
      .catch(function () { /* next round */ });
  }

  graph.on('click', function (p) {
    if (p.dataType !== 'edge') { return; }
    var d = p.data;
    var src = new URL(graphEl.dataset.src, window.location.href);
    var url = '/ui/fragments/topology/edge?ns=' + encodeURIComponent(d.callerNamespace) + '&caller='
      + encodeURIComponent(d.caller) + '&service=' + encodeURIComponent(d.service) + '&window='
      + encodeURIComponent(src.searchParams.get('window') || '5m');
    htmx.ajax('GET', url, '#edge-detail');
  });

  // the latency chart of the edge just loaded into #edge-detail
  document.body.addEventListener('htmx:afterSwap', function (ev) {
    var el = document.getElementById('latency-chart');
    if (!el || !ev.detail.target || ev.detail.target.id !== 'edge-detail') { return; }
    var series = JSON.parse(el.dataset.series || '[]');
    var at = function (p) { return new Date(p.startMs).toISOString().substring(11, 19); };
    var line = function (name, k) {
      return { name: name, type: 'line', showSymbol: false, data: series.map(function (p) { return p.latencyMs[k]; }) };
    };
    echarts.init(el).setOption({
      tooltip: { trigger: 'axis' }, legend: {},
      xAxis: { type: 'category', data: series.map(at) },
      yAxis: { type: 'value', name: 'ms' },
      series: [line('p50', 'p50'), line('p99', 'p99'), line('p99.9', 'p999')]
    });
  });

  window.addEventListener('resize', function () { graph.resize(); });
  load();
  setInterval(load, 5000);
})();
