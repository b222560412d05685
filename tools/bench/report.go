package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the table: nanoseconds per unit on each side.
type row struct {
	Name       string  `json:"name"`
	Unit       string  `json:"unit"` // what one figure is per: op, page, iter or run
	Native     float64 `json:"native_ns"`
	Ringbox    float64 `json:"ringbox_ns"`
	Ratio      float64 `json:"ratio"` // Ringbox / Native
	NativeOps  int64   `json:"native_ops_per_run,omitempty"`
	RingboxOps int64   `json:"ringbox_ops_per_run,omitempty"`
	Runs       int     `json:"runs"` // figures are medians of this many runs
	// Exits are ringbox's VM exit counters (ringbox run --debug) per unit:
	// for loop rows the difference between a run with RingboxOps operations
	// and one with none, divided by RingboxOps.
	Exits map[string]float64 `json:"ringbox_exits_per_unit"`
}

func (r *row) set(native, ringbox float64) {
	r.Native, r.Ringbox = native, ringbox
	if native > 0 {
		r.Ratio = ringbox / native
	}
}

// report is the whole result.
type report struct {
	Quick    bool    `json:"quick"`
	Ringbox  string  `json:"ringbox"`
	Platform string  `json:"platform"` // as ringbox --debug reported it
	CPU      string  `json:"cpu"`
	CPUs     int     `json:"cpus"`
	Rows     []*row  `json:"rows"`
	Seconds  float64 `json:"seconds"` // the whole bench
}

func (rep *report) printTable(w io.Writer) {
	mode := "full"
	if rep.Quick {
		mode = "quick"
	}
	platform := rep.Platform
	if platform == "" {
		platform = "unknown"
	}
	fmt.Fprintf(w, "ringbox bench (%s), platform %s, %s, %d CPUs\n\n", mode, platform, rep.CPU, rep.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tnative\tringbox\tringbox/native\tringbox exits per unit (--debug)")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, formatNs(r.Native, r.Unit),
			formatNs(r.Ringbox, r.Unit), formatRatio(r.Ratio), formatExits(r.Exits))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmedians; loop rows time N operations inside the program; bench took %v\n",
		time.Duration(rep.Seconds*float64(time.Second)).Round(100*time.Millisecond))
}

func (rep *report) printJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// formatNs shows nanoseconds with a unit that keeps 3 or 4 digits.
func formatNs(ns float64, unit string) string {
	var s string
	switch {
	case ns < 1e3:
		s = fmt.Sprintf("%.1f ns", ns)
	case ns < 1e6:
		s = fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e9:
		s = fmt.Sprintf("%.2f ms", ns/1e6)
	default:
		s = fmt.Sprintf("%.2f s", ns/1e9)
	}
	return s + "/" + unit
}

func formatRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0fx", r)
	case r >= 10:
		return fmt.Sprintf("%.1fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// formatExits lists the non-zero counters by name.
func formatExits(m map[string]float64) string {
	var parts []string
	for k, v := range m {
		if v == 0 {
			continue
		}
		s := strconv.FormatFloat(v, 'g', 3, 64)
		if v >= 1000 {
			s = strconv.FormatFloat(v, 'f', 0, 64)
		}
		parts = append(parts, k+"="+s)
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
