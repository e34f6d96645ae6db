package report

import "html/template"

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>regstorm: {{.Title}}</title>
<script>
// Self-check, for people and for the test that opens this page in headless
// Chromium: errors, images loaded, resources fetched from outside the
// page's directory, elements wider than the page.
window.regstormErrors = [];
window.addEventListener("error", function (e) { regstormErrors.push(String(e.message || e.type)); }, true);
window.addEventListener("unhandledrejection", function (e) { regstormErrors.push("unhandled rejection: " + e.reason); });
(function () { var ce = console.error; console.error = function () { regstormErrors.push(Array.prototype.join.call(arguments, " ")); ce.apply(console, arguments); }; })();
</script>
<style>
{{.UplotCSS}}
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#f6f7f9;--pass:#1b7f3b;--fail:#b3261e;--warn:#a15c00}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:var(--fg);background:#fff}
header{background:var(--bg);border-bottom:1px solid var(--line);padding:1.2em 2em}
main{padding:0 2em 3em;max-width:1800px}
h1{font-size:1.5em;margin:0 0 .2em} h2{font-size:1.15em;margin:1.8em 0 .6em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.meta{color:var(--muted);margin:.2em 0;overflow-wrap:anywhere} .meta b{color:var(--fg);font-weight:600}
.verdict{display:inline-block;margin-top:.6em;padding:.35em .8em;border-radius:4px;font-weight:600;color:#fff;max-width:100%;overflow-wrap:anywhere}
.verdict.pass{background:var(--pass)} .verdict.fail{background:var(--fail)} .verdict.warn{background:var(--warn)} .verdict.neutral{background:#445}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4em 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.22em .55em;text-align:right;white-space:nowrap}
td:first-child{white-space:normal;min-width:12em}
th{background:var(--bg);font-weight:600} td:first-child,th:first-child{text-align:left}
td.l,th.l{text-align:left} tr.head td{font-weight:600;background:#fbfbfc;padding-top:.5em}
td.indent{padding-left:1.8em;color:#333}
tr.failed td{background:#fde8e6;color:var(--fail);font-weight:600} tr.skipped td{color:var(--muted)}
td.diff{background:#fff6d6;font-weight:600} td.better{color:var(--pass);font-weight:600} td.worse{color:var(--fail);font-weight:600} td.neutral{color:var(--muted)}
.sides{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:1.5em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,540px),1fr));gap:1.4em}
figure{margin:0;border:1px solid var(--line);border-radius:4px;padding:.6em;background:#fff;min-width:0}
figure.wide{grid-column:1/-1} figure img{width:100%;height:auto;display:block}
figcaption{font-weight:600;margin-bottom:.4em} figcaption a{font-weight:400;font-size:.9em;margin-left:.5em}
details{margin:1em 0} summary{cursor:pointer;font-weight:600}
pre{background:var(--bg);border:1px solid var(--line);padding:.8em;overflow-x:auto;font-size:13px;max-width:100%}
.chart{min-width:0;overflow:hidden} .note{color:var(--muted);font-size:.9em}
</style></head><body>
<header>
<h1>regstorm: {{.Title}}</h1>
<p class="meta">{{.Subtitle}}{{with .Info}} · commit <b>{{.Commit}}</b> · {{.Go}} · host {{.Host}} · started {{.Started}} · wall time <b>{{printf "%.3f" .WallS}} s</b>{{end}}</p>
<div class="verdict {{.Verdict.Class}}">{{.Verdict.Text}}</div>
{{with .Files}}<p class="meta">files: {{range .}}<a href="{{.}}">{{.}}</a> · {{end}}HdrHistogram logs (*.hlog)</p>{{end}}
</header>
<main>
{{if .Expect}}<h2>Expectations</h2>
<div class="scroll"><table><tr><th>variant</th><th class="l">metric</th><th>op</th><th>required</th><th>measured</th><th>verdict</th></tr>
{{range .Expect}}<tr{{if not .Passed}} class="failed"{{end}}><td>{{.Variant}}</td><td class="l">{{.Metric}}</td><td>{{.Op}}</td><td>{{.RequiredText}}</td><td>{{.MeasuredText}}</td><td>{{if .Passed}}passed{{else}}FAILED{{end}}</td></tr>
{{end}}</table></div>{{end}}
{{if .Invar}}<h2>Invariants</h2>
<div class="scroll"><table><tr><th>variant</th><th class="l">invariant</th><th>verdict</th><th class="l">detail</th></tr>
{{range .Invar}}<tr class="{{if .Skipped}}skipped{{else if not .Passed}}failed{{end}}"><td>{{.Variant}}</td><td class="l">{{.Name}}</td><td>{{if .Skipped}}skipped{{else if .Passed}}holds{{else}}FAILED{{end}}</td><td class="l">{{.Detail}}</td></tr>
{{end}}</table></div>{{end}}
{{if .Rows}}<h2>Summary</h2>{{template "table" .}}{{end}}
{{with .Compare}}<h2>Both runs</h2>
<div class="sides">{{range .Sides}}<p class="meta"><b>{{.Tag}}</b>: {{.Dir}}{{with .Info}} · commit <b>{{.Commit}}</b> · wall time {{printf "%.3f" .WallS}} s{{end}}
<span class="verdict {{.Verdict.Class}}">{{.Verdict.Text}}</span></p>{{end}}</div>
<p class="note">Each variant's column in A, then in B; a B value that differs from A's is marked.</p>
<div class="scroll"><table><tr><th></th>{{range .Names}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}{{if .Cells}}<tr><td{{if .Indent}} class="indent"{{end}}>{{.Label}}</td>{{range .Cells}}<td{{if .Diff}} class="diff"{{end}}>{{.Text}}</td>{{end}}</tr>
{{else}}<tr class="head"><td colspan="99">{{.Label}}</td></tr>
{{end}}{{end}}</table></div>
<h2>Metrics that changed from A to B</h2>
<p class="note">Green: better (lower latency or failures, higher success); red: worse; grey: neither.</p>
<div class="scroll"><table><tr><th>variant</th><th class="l">metric</th><th>A</th><th>B</th><th>B − A</th><th>relative</th></tr>
{{range .Deltas}}<tr><td>{{.Variant}}</td><td class="l">{{.Metric}}</td><td>{{.A}}</td><td>{{.B}}</td><td class="{{.Class}}">{{.Delta}}</td><td class="{{.Class}}">{{.Relative}}</td></tr>
{{else}}<tr><td colspan="6" class="l">no metric changed</td></tr>{{end}}</table></div>
{{end}}
{{with .Capacity}}<h2>Steps</h2>
<div class="scroll"><table><tr><th>rate/s</th><th>offered/s</th><th>achieved/s</th><th>attempted</th><th>succeeded</th><th>failed</th><th>slow</th><th>inadequate</th><th>ok p99 ms</th><th>all p99 ms</th><th>verdict</th></tr>
{{range $.CapRows}}<tr{{if eq (index . 10) "FAIL"}} class="failed"{{end}}>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}
{{if .Series}}<h2>Time series (interactive: drag to zoom, double-click to reset, hover for values)</h2>
<div class="grid"><figure class="chart"><figcaption>Procedures per virtual second</figcaption><div id="chart-thr"></div></figure>
<figure class="chart"><figcaption>Latency of the procedures that ended in the second (ms)</figcaption><div id="chart-lat"></div></figure></div>{{end}}
{{if .Plots}}<h2>Plots</h2>
<div class="grid">{{range .Plots}}<figure{{if or (eq .Name "timeseries") (eq .Name "capacity")}} class="wide"{{end}}><figcaption>{{.Title}} <a href="{{.Name}}.svg">SVG</a></figcaption><img src="{{.Name}}.png" alt="{{.Title}}"></figure>
{{end}}</div>{{end}}
{{if .Profile}}<details><summary>Profile as run (profile.yaml, every default filled in)</summary><pre>{{.Profile}}</pre></details>{{end}}
</main>
<script>{{.UplotJS}}</script>
<script>
(function () {
  var data = {{if .Series}}{{.Series}}{{else}}null{{end}};
  var phases = [{{range .Phases}}{from: {{.From}}, to: {{.To}}, label: {{.Label}}},{{end}}];
  var colors = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"];
  var dashes = [[], [7, 4], [2, 3], [9, 3, 2, 3]];
  function width(el) { return Math.max(280, el.clientWidth || 600); }
  function shadePhases(u) {
    var ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = "rgba(213,94,0,0.14)";
    for (var i = 0; i < phases.length; i++) {
      var x0 = u.valToPos(phases[i].from, "x", true), x1 = u.valToPos(phases[i].to, "x", true);
      x0 = Math.max(x0, u.bbox.left); x1 = Math.min(x1, u.bbox.left + u.bbox.width);
      if (x1 > x0) {
        ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
        ctx.fillStyle = "#803000"; ctx.font = (12 * devicePixelRatio) + "px sans-serif";
        ctx.fillText(phases[i].label, x0 + 4, u.bbox.top + 14 * devicePixelRatio);
        ctx.fillStyle = "rgba(213,94,0,0.14)";
      }
    }
    ctx.restore();
  }
  function chart(id, quantities, log) {
    var el = document.getElementById(id);
    if (!el || !data || !data.length || typeof uPlot === "undefined") return;
    // One x axis: the union of every variant's seconds.
    var xs = {}, i, j;
    for (i = 0; i < data.length; i++) for (j = 0; j < data[i].T.length; j++) xs[data[i].T[j]] = true;
    var t = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var cols = [t], series = [{label: "virtual s"}];
    for (i = 0; i < data.length; i++) {
      var at = {};
      for (j = 0; j < data[i].T.length; j++) at[data[i].T[j]] = j;
      for (var q = 0; q < quantities.length; q++) {
        var src = data[i][quantities[q].key] || [];
        cols.push(t.map(function (s) { var k = at[s]; var v = k === undefined ? null : src[k]; return log && v !== null && v <= 0 ? null : v; }));
        series.push({label: data[i].Name + ": " + quantities[q].label, stroke: colors[i % colors.length],
          width: i === 0 ? 2.4 : 1.4, dash: quantities[q].dash.length ? quantities[q].dash : dashes[i % dashes.length], spanGaps: false,
          points: {show: false}});
      }
    }
    var opts = {width: width(el), height: 320, series: series, cursor: {drag: {x: true, y: false}},
      scales: {x: {time: false}, y: log ? {distr: 3} : {}}, axes: [{label: "virtual time (s)"}, {}],
      hooks: {drawClear: [shadePhases]}, legend: {live: true}};
    var u = new uPlot(opts, cols, el);
    window.addEventListener("resize", function () { u.setSize({width: width(el), height: 320}); });
  }
  chart("chart-thr", [{key: "Offered", label: "offered", dash: [2, 3]}, {key: "Succeeded", label: "succeeded", dash: []},
    {key: "Failed", label: "failed", dash: [7, 4]}], false);
  chart("chart-lat", [{key: "P99", label: "p99", dash: []}, {key: "P50", label: "p50", dash: [7, 4]}], true);
})();
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0, i;
  for (i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  var outside = [], res = performance.getEntriesByType("resource");
  for (i = 0; i < res.length; i++) { if (!/^(file|data|blob):/.test(res[i].name)) outside.push(res[i].name); }
  var page = document.documentElement.clientWidth, wide = [], all = document.body.getElementsByTagName("*");
  for (i = 0; i < all.length; i++) {
    var r = all[i].getBoundingClientRect();
    if (!(r.width > 0 && r.right > page + 1)) continue;
    // Inside a scrolling box (a wide table's), the box is what must fit.
    var inScroller = false;
    for (var p = all[i].parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") { inScroller = true; break; }
    }
    if (!inScroller) wide.push(all[i].tagName.toLowerCase() + (all[i].id ? "#" + all[i].id : "") + (all[i].className ? "." + all[i].className : "") + " " + Math.round(r.right) + ">" + page);
  }
  var b = document.body;
  b.setAttribute("data-images-loaded", ok + "/" + imgs.length);
  b.setAttribute("data-scripts-ok", typeof uPlot === "function" ? "yes" : "no");
  b.setAttribute("data-charts", String(document.querySelectorAll(".uplot").length));
  b.setAttribute("data-errors", JSON.stringify(window.regstormErrors));
  b.setAttribute("data-network", JSON.stringify(outside));
  b.setAttribute("data-too-wide", JSON.stringify(wide.slice(0, 10)));
  b.setAttribute("data-page-width", String(page));
  b.setAttribute("data-page-height", String(document.documentElement.scrollHeight));
});
</script></body></html>
{{define "table"}}<div class="scroll"><table><tr><th></th>{{range .Names}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}{{if .Cells}}<tr><td{{if .Indent}} class="indent"{{end}}>{{.Label}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{else}}<tr class="head"><td colspan="99">{{.Label}}</td></tr>
{{end}}{{end}}</table></div>{{end}}
`))
