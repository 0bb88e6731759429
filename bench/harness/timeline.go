package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// timelineSVG draws a run's samples as four panels on one time axis: ticks
// per second (the bursts), window close → trace latency (worst and median of
// each 10 ms), the partition rings' backlog, and the ladder step. Plain SVG,
// no dependencies: a browser or the README shows it.
func timelineSVG(s []sample, title string) []byte {
	per := float64(time.Second) / float64(sampleEvery)
	panels := []panel{
		{"feed", "ticks/s", []series{{"ticks/s", "#555", func(x sample) float64 { return float64(x.ticks) * per }}}},
		{"close → trace", "ms", []series{
			{"worst in 10 ms", "#d62728", func(x sample) float64 { return float64(x.latMax) / 1e6 }},
			{"median in 10 ms", "#1f77b4", func(x sample) float64 { return float64(x.latP50) / 1e6 }},
		}},
		{"ring backlog", "ticks", []series{{"backlog", "#2ca02c", func(x sample) float64 { return float64(x.backlog) }}}},
		{"ladder", "step", []series{{"step", "#9467bd", func(x sample) float64 { return float64(x.step) }}}},
	}
	return drawTimeline(s, title, panels)
}

// series is one line of a timeline panel; panel, one strip of the picture.
type series struct {
	name  string
	color string
	v     func(sample) float64
}

type panel struct {
	label  string
	unit   string
	series []series
}

// drawTimeline draws panels over the samples' common time axis.
func drawTimeline(s []sample, title string, panels []panel) []byte {
	const (
		w, left, right = 1000.0, 70.0, 20.0
		panelH, gap    = 130.0, 30.0
		top            = 40.0
	)
	h := top + float64(len(panels))*(panelH+gap) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="20" font-size="14">%s</text>`+"\n", left, esc(title))
	tmax := s[len(s)-1].at.Seconds()
	x := func(t time.Duration) float64 { return left + (w-left-right)*t.Seconds()/tmax }
	for i, p := range panels {
		y0 := top + float64(i)*(panelH+gap)
		vmax := 0.0
		for _, se := range p.series {
			for _, v := range s {
				vmax = math.Max(vmax, se.v(v))
			}
		}
		if vmax == 0 {
			vmax = 1
		}
		y := func(v float64) float64 { return y0 + panelH - panelH*v/vmax }
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`+"\n", left, y0, w-left-right, panelH)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">%s <tspan font-weight="normal" fill="#777">(%s)</tspan></text>`+"\n", left, y0-6, esc(p.label), esc(p.unit))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end" fill="#777">%s</text>`+"\n", left-4, y0+10, fmtNum(vmax))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end" fill="#777">0</text>`+"\n", left-4, y0+panelH)
		for j, se := range p.series {
			var pts strings.Builder
			for _, v := range s {
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(v.at), y(se.v(v)))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1" points="%s"/>`+"\n", se.color, pts.String())
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s" text-anchor="end">%s</text>`+"\n", w-right-4, y0+12+float64(j)*13, se.color, esc(se.name))
		}
	}
	axisY := top + float64(len(panels))*(panelH+gap) - gap + 14
	for t := 0.0; t <= tmax; t += 1 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#777">%.0f s</text>`+"\n", x(time.Duration(t*float64(time.Second))), axisY, t)
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func fmtNum(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
