package report

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/regstorm/regstorm/results"
)

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>regstorm: {{.Profile}} (seed {{.Seed}})</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}
figure{margin:2em 0} img{max-width:100%;border:1px solid #eee}
figcaption{font-weight:bold;margin-bottom:.4em}
</style></head><body>
<h1>regstorm: {{.Profile}}</h1>
<p>seed {{.Seed}}; files: <a href="summary.json">summary.json</a>, <a href="timeseries.csv">timeseries.csv</a>, HdrHistogram logs (*.hlog).</p>
<pre>{{.Table}}</pre>
{{range .Plots}}<figure><figcaption>{{.Title}}</figcaption><img src="{{.Name}}.png" alt="{{.Title}}"></figure>
{{end}}<script>
// Reports how many figures loaded, for people and for the test that opens
// this page in headless Chromium.
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute("data-images-loaded", ok + "/" + imgs.length);
});
</script></body></html>
`))

// WriteIndex writes index.html showing the table and the plots.
func WriteIndex(r *results.Run, plots []Plot) error {
	var table bytes.Buffer
	if err := r.Summary.WriteTable(&table); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, map[string]any{"Profile": r.Summary.Profile, "Seed": r.Summary.Seed,
		"Table": table.String(), "Plots": plots}); err != nil {
		return fmt.Errorf("report: rendering index.html: %w", err)
	}
	return os.WriteFile(filepath.Join(r.Dir, "index.html"), b.Bytes(), 0o644)
}

// Render re-renders the plots and index.html of a run directory from its
// saved files.
func Render(dir string) (*results.Run, []Plot, error) {
	r, err := results.LoadRun(dir)
	if err != nil {
		return nil, nil, err
	}
	plots, err := RenderPlots(r)
	if err != nil {
		return nil, nil, err
	}
	if err := WriteIndex(r, plots); err != nil {
		return nil, nil, err
	}
	return r, plots, nil
}
