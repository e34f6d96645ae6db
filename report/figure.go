package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// pngDPI renders PNGs at about twice the CSS pixel density: a 7 in
// figure is 1,260 px wide, sharp on a high-density screen and in a
// document.
const pngDPI = 180

// The figures' widths: a single plot shown in a column of the grid, and a
// stack of panels shown across the page.
const (
	narrowWidth = 7 * vg.Inch
	wideWidth   = 11 * vg.Inch
)

// palette is Okabe and Ito's colour-blind-safe set: one colour per variant.
var palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
}

func variantColor(i int) color.Color { return palette[i%len(palette)] }

// variantDashes and variantWidth tell overlaid variants apart beyond their
// colour: the first is a wide solid line, the next ones narrower dashed
// lines drawn on top, so identical curves (the point of an A/B run that
// changes only a route) both stay visible.
func variantDashes(i int) []vg.Length {
	switch i % 4 {
	case 1:
		return []vg.Length{vg.Points(7), vg.Points(4)}
	case 2:
		return []vg.Length{vg.Points(2), vg.Points(3)}
	case 3:
		return []vg.Length{vg.Points(9), vg.Points(3), vg.Points(2), vg.Points(3)}
	}
	return nil
}

func variantWidth(i int) vg.Length {
	if i == 0 {
		return vg.Points(3)
	}
	return vg.Points(1.6)
}

// panel is one plot of a figure with its legend, drawn beside or below
// the data area, never over it.
type panel struct {
	p       *plot.Plot
	entries []legendEntry
}

type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// newLegend is a legend of entries in the figures' style.
func newLegend(entries []legendEntry) plot.Legend {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.TextStyle.Font.Size = vg.Points(12)
	l.ThumbnailWidth = vg.Points(28)
	l.Padding = vg.Points(3)
	for _, e := range entries {
		l.Add(e.label, e.thumbs...)
	}
	return l
}

func (pn *panel) addEntry(label string, thumbs ...plot.Thumbnailer) {
	pn.entries = append(pn.entries, legendEntry{label, thumbs})
}

func newPanel(title, x, y string) *panel {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(15)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Label.TextStyle.Font.Size = vg.Points(13)
	p.Y.Label.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Label.Font.Size = vg.Points(12)
	p.Y.Tick.Label.Font.Size = vg.Points(12)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	p.X.Tick.Marker = linearTicks{}
	p.Y.Tick.Marker = linearTicks{}
	return &panel{p: p}
}

// add adds plotters and, when label is set, a legend entry for them.
func (pn *panel) add(label string, ps ...plot.Plotter) {
	pn.p.Add(ps...)
	if label == "" {
		return
	}
	var thumbs []plot.Thumbnailer
	for _, p := range ps {
		if t, ok := p.(plot.Thumbnailer); ok {
			thumbs = append(thumbs, t)
		}
	}
	pn.addEntry(label, thumbs...)
}

// legendSize is the room a legend of entries needs.
func legendSize(entries []legendEntry) (w, h vg.Length) {
	if len(entries) == 0 {
		return 0, 0
	}
	l := newLegend(entries)
	r := l.Rectangle(draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: 100 * vg.Inch, Y: 100 * vg.Inch}}})
	return r.Max.X - r.Min.X, r.Max.Y - r.Min.Y
}

// legendWidth is the room the widest legend of panels needs.
func legendWidth(panels []*panel) vg.Length {
	var w vg.Length
	for _, pn := range panels {
		lw, _ := legendSize(pn.entries)
		w = max(w, lw)
	}
	if w > 0 {
		w += vg.Points(14)
	}
	return w
}

// legendColumns splits entries into columns of at most cols.
func legendColumns(entries []legendEntry, cols int) [][]legendEntry {
	rows := (len(entries) + cols - 1) / cols
	var out [][]legendEntry
	for i := 0; i < len(entries); i += rows {
		out = append(out, entries[i:min(i+rows, len(entries))])
	}
	return out
}

// drawBelow draws a single panel with its legend under it, in two
// columns: the data area keeps the figure's width (a percentile axis of a
// million samples needs it).
func drawBelow(c draw.Canvas, pn *panel) layout {
	cols := legendColumns(pn.entries, 2)
	var h vg.Length
	for _, col := range cols {
		_, ch := legendSize(col)
		h = max(h, ch)
	}
	top := c
	top.Min.Y += h + vg.Points(12)
	lay := drawFigure(top, []*panel{{p: pn.p}})
	data := lay.Data[0]
	var union vg.Rectangle
	x := data.Min.X
	colW := (c.Max.X - data.Min.X) / vg.Length(len(cols))
	for i, col := range cols {
		l := newLegend(col)
		lc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x + vg.Length(i)*colW, Y: c.Min.Y + vg.Points(5)},
			Max: vg.Point{X: x + vg.Length(i+1)*colW, Y: c.Min.Y + vg.Points(5) + h},
		}}
		l.Draw(lc)
		r := l.Rectangle(lc)
		if i == 0 {
			union = r
		} else {
			union.Min.X, union.Min.Y = min(union.Min.X, r.Min.X), min(union.Min.Y, r.Min.Y)
			union.Max.X, union.Max.Y = max(union.Max.X, r.Max.X), max(union.Max.Y, r.Max.Y)
		}
	}
	lay.Legend = []vg.Rectangle{union}
	return lay
}

// layout is where a figure's parts went: per panel, the data area and the
// legend (empty when the panel has none).
type layout struct {
	Data, Legend []vg.Rectangle
}

// drawFigure draws panels stacked vertically into c, their data areas
// aligned, each legend in a column right of the data.
func drawFigure(c draw.Canvas, panels []*panel) layout {
	for _, pn := range panels {
		if _, ok := pn.p.Y.Scale.(plot.LogScale); ok {
			niceLogRange(&pn.p.Y)
		}
	}
	lw := legendWidth(panels)
	left := c
	left.Max.X -= lw
	grid := make([][]*plot.Plot, len(panels))
	for i, pn := range panels {
		grid[i] = []*plot.Plot{pn.p}
	}
	canv := plot.Align(grid, draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(14), PadTop: vg.Points(4),
		PadBottom: vg.Points(4), PadRight: vg.Points(10), PadLeft: vg.Points(4)}, left)
	var lay layout
	for i, pn := range panels {
		pc := canv[i][0]
		// gonum/plot places a log axis's label box at the linear middle
		// of its values when it pads the plot, so a long label on a log
		// axis pushes the data area down; draw it here instead, where
		// gonum draws it, with a blank label of the same height keeping
		// its room.
		label := pn.p.Y.Label.Text
		_, logY := pn.p.Y.Scale.(plot.LogScale)
		if logY && label != "" {
			pn.p.Y.Label.Text = " "
		}
		pn.p.Draw(pc)
		data := pn.p.DataCanvas(pc)
		if logY && label != "" {
			pn.p.Y.Label.Text = label
			sty := pn.p.Y.Label.TextStyle
			sty.Rotation += math.Pi / 2
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
			x := pc.Min.X + sty.Height(label)/2
			pc.FillText(sty, vg.Point{X: x, Y: (data.Min.Y + data.Max.Y) / 2}, label)
		}
		lay.Data = append(lay.Data, data.Rectangle)
		lc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: c.Max.X - lw + vg.Points(6), Y: data.Min.Y},
			Max: vg.Point{X: c.Max.X, Y: data.Max.Y},
		}}
		var lr vg.Rectangle
		if lw > 0 && len(pn.entries) > 0 {
			l := newLegend(pn.entries)
			l.Draw(lc)
			lr = l.Rectangle(lc)
		}
		lay.Legend = append(lay.Legend, lr)
	}
	return lay
}

// saveFigure writes panels as path.png and path.svg, w wide and h high.
func saveFigure(path string, panels []*panel, w, h vg.Length) (layout, error) {
	var lay layout
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))
	c := draw.New(img)
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	figure := func(c draw.Canvas) layout {
		if len(panels) == 1 && len(panels[0].entries) > 0 {
			return drawBelow(c, panels[0])
		}
		return drawFigure(c, panels)
	}
	lay = figure(c)
	if err := writeTo(path+".png", vgimg.PngCanvas{Canvas: img}.WriteTo); err != nil {
		return lay, err
	}
	svg := vgsvg.New(w, h)
	figure(draw.New(svg))
	if err := writeTo(path+".svg", svg.WriteTo); err != nil {
		return lay, err
	}
	return lay, nil
}

func writeTo(path string, w func(f io.Writer) (int64, error)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := w(f); err != nil {
		f.Close()
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// line is a styled line of points.
func line(xy plotter.XYs, c color.Color, w vg.Length, dash []vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	l.Color, l.Width, l.Dashes = c, w, dash
	return l, nil
}
