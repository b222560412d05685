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

// row is one line of the table: nanoseconds per unit natively and on each
// platform.
type row struct {
	Name      string  `json:"name"`
	Unit      string  `json:"unit"` // what one figure is per: op, page, iter, run, listing or MiB
	Runs      int     `json:"runs"` // figures are medians of this many runs per side
	Native    float64 `json:"native_ns"`
	NativeOps int64   `json:"native_ops_per_run,omitempty"`
	// Bytes, when not 0, are the bytes a unit moves: the table then shows
	// MB/s (10^6 bytes a second) instead of time per unit.
	Bytes float64 `json:"bytes_per_unit,omitempty"`
	// Memory says the figures (the ns fields) are bytes of memory, not
	// times: the table shows MB and no exits.
	Memory     bool    `json:"memory,omitempty"`
	NativeMBps float64 `json:"native_mb_per_s,omitempty"`
	// Platforms are the ringbox figures, keyed by --platform value.
	Platforms map[string]*result `json:"platforms"`
	// Speedup is exit mode's figure over ring0 mode's, when both ran.
	Speedup float64 `json:"ring0_speedup_over_exit,omitempty"`
	Target  *target `json:"target,omitempty"`
	// Skipped says why the row was not run (a tool it needs is missing);
	// Failed says why it failed (a program failed, natively or under
	// ringbox, or printed the wrong thing). Such a row has no figures.
	Skipped string `json:"skipped,omitempty"`
	Failed  string `json:"failed,omitempty"`
	// Seconds is how long the row took, all its runs.
	Seconds float64 `json:"seconds"`
}

// result is one row's figures on one platform.
type result struct {
	Platform string  `json:"platform"` // as ringbox --debug reported it, e.g. kvm/pvm
	NS       float64 `json:"ns"`
	Ratio    float64 `json:"ratio"`              // NS / native
	MBps     float64 `json:"mb_per_s,omitempty"` // with the row's Bytes
	Ops      int64   `json:"ops_per_run,omitempty"`
	// Exits are VM exits per unit: ring0 mode's KVM_RUN entries after the
	// first, exit mode's exit.* counters summed. For loop rows the
	// difference between a run with Ops operations and one with none,
	// divided by Ops; for the start-up and hello rows a whole run's.
	Exits float64 `json:"vm_exits_per_unit"`
	// Counters are all of ringbox --debug's counters, per unit likewise.
	Counters map[string]float64 `json:"counters_per_unit"`
}

// target is a goal for ring0 mode's figure of a row. The verdict is
// informational: a miss does not fail the bench.
type target struct {
	Text     string  `json:"text"`
	MaxNs    float64 `json:"max_ns,omitempty"`    // ring0 under this many ns per unit
	MaxRatio float64 `json:"max_ratio,omitempty"` // ring0 under this many times native
	MaxBytes float64 `json:"max_bytes,omitempty"` // a memory row: ring0 under this many bytes
	// MaxExtraNs: ring0 under native plus this many ns per unit.
	MaxExtraNs float64 `json:"max_extra_ns,omitempty"`
	Verdict    string  `json:"verdict"` // PASS, MISS, or "not measured"
}

func newRow(name, unit string, t *target) *row {
	return &row{Name: name, Unit: unit, Platforms: map[string]*result{}, Target: t}
}

// with sets the row's target.
func (r *row) with(t *target) *row { r.Target = t; return r }

// newMemoryRow is a row of memory, shown in MB.
func newMemoryRow(name string, t *target) *row {
	r := newRow(name, "run", t)
	r.Memory = true
	return r
}

// newRateRow is a row of MiB moved, shown in MB/s.
func newRateRow(name string) *row {
	r := newRow(name, "MiB", nil)
	r.Bytes = 1 << 20
	return r
}

// skip marks the row not run, for reason.
func (r *row) skip(reason string) {
	r.clear()
	r.Skipped = reason
	progressLine(fmt.Sprintf("bench: %s: skipped: %s\n", r.Name, reason))
}

// fail marks the row failed with err.
func (r *row) fail(err error) {
	r.clear()
	r.Failed = err.Error()
	progressLine(fmt.Sprintf("bench: %s: FAILED: %v\n", r.Name, err))
}

// clear drops the row's figures.
func (r *row) clear() {
	r.Native, r.NativeOps, r.NativeMBps, r.Speedup = 0, 0, 0, 0
	r.Platforms = map[string]*result{}
	if r.Target != nil {
		r.Target.Verdict = "not measured"
	}
}

// measured says whether the row has figures.
func (r *row) measured() bool {
	return r.Skipped == "" && r.Failed == ""
}

// status is what the table shows instead of the figures of a row that has
// none.
func (r *row) status() string {
	if r.Failed != "" {
		return "FAILED (below)"
	}
	return "skipped (below)"
}

// derive sets the figures computed from the measured ones: the rates, the
// speed-up and the target's verdict.
func (r *row) derive() {
	if r.Bytes > 0 {
		r.NativeMBps = mbps(r.Bytes, r.Native)
		for _, res := range r.Platforms {
			res.MBps = mbps(r.Bytes, res.NS)
		}
	}
	r0, ex := r.Platforms[ring0Platform], r.Platforms[exitPlatform]
	if r0 != nil && ex != nil && r0.NS > 0 {
		r.Speedup = ex.NS / r0.NS
	}
	if t := r.Target; t != nil {
		switch {
		case r0 == nil:
			t.Verdict = "not measured"
		case (t.MaxNs > 0 && r0.NS >= t.MaxNs) || (t.MaxRatio > 0 && r0.Ratio >= t.MaxRatio) ||
			(t.MaxBytes > 0 && r0.NS >= t.MaxBytes) || (t.MaxExtraNs > 0 && r0.NS-r.Native >= t.MaxExtraNs):
			t.Verdict = "MISS"
		default:
			t.Verdict = "PASS"
		}
	}
}

// report is the whole result.
type report struct {
	Quick     bool              `json:"quick"`
	Ringbox   string            `json:"ringbox"`
	Platforms []string          `json:"platforms"` // --platform values, in table order
	Seen      map[string]string `json:"platform_names"`
	CPU       string            `json:"cpu"`
	CPUs      int               `json:"cpus"`
	// Emulated says the figures come from software emulation (the x86
	// lane), not comparable with a hardware host; empty otherwise.
	Emulated string `json:"emulated,omitempty"`
	// Files is the directory of the open, stat, getdents and read rows'
	// files, on FilesFS; the rw --mount write row writes next to it. Shm
	// is the native side of the --tmpfs write row. FileBytes is the size
	// of the read and write rows' files.
	Files     string `json:"files_dir"`
	FilesFS   string `json:"files_fs"`
	Shm       string `json:"native_tmpfs_dir"`
	ShmFS     string `json:"native_tmpfs_fs"`
	FileBytes int64  `json:"file_bytes"`
	// Notes are lines for the table's header: what -quick left out.
	Notes   []string `json:"notes,omitempty"`
	Rows    []*row   `json:"rows"`
	Seconds float64  `json:"seconds"` // the whole bench
}

// label is a platform's name in the table.
func label(platform string) string {
	switch platform {
	case ring0Platform:
		return "ring0"
	case exitPlatform:
		return "exit"
	}
	return platform
}

func (rep *report) printTable(w io.Writer) {
	mode := "full"
	if rep.Quick {
		mode = "quick"
	}
	var plats []string
	for _, p := range rep.Platforms {
		plats = append(plats, fmt.Sprintf("%s = --platform=%s (%s)", label(p), p, rep.Seen[p]))
	}
	fmt.Fprintf(w, "ringbox bench (%s); %s; %s, %d CPUs\n", mode, strings.Join(plats, ", "), rep.CPU, rep.CPUs)
	if rep.Emulated != "" {
		fmt.Fprintf(w, "NOTE: %s\n", rep.Emulated)
	}
	if rep.Files != "" {
		fmt.Fprintf(w, "files in %s (%s), bound at their own path; native side of --tmpfs writes in %s (%s)\n",
			rep.Files, rep.FilesFS, rep.Shm, rep.ShmFS)
	}
	if rep.Quick && rep.FileBytes > 0 && rep.FileBytes != fileBytes {
		fmt.Fprintf(w, "quick: the read and write rows move %s, not the full run's %s\n",
			sizeName(rep.FileBytes), sizeName(fileBytes))
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)

	both := slices.Contains(rep.Platforms, ring0Platform) && slices.Contains(rep.Platforms, exitPlatform)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"benchmark", "native"}
	for _, p := range rep.Platforms {
		head = append(head, label(p))
	}
	for _, p := range rep.Platforms {
		head = append(head, label(p)+"/native")
	}
	if both {
		head = append(head, "exit/ring0")
	}
	for _, p := range rep.Platforms {
		head = append(head, label(p)+" exits/unit")
	}
	for _, p := range rep.Platforms {
		head = append(head, label(p)+" exits/s")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rep.Rows {
		if !r.measured() {
			fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.status())
			continue
		}
		cells := []string{r.Name, r.figure(r.Native)}
		// A platform the row did not measure (-quick) shows "-".
		each := func(f func(*result) string) {
			for _, p := range rep.Platforms {
				if res := r.Platforms[p]; res != nil {
					cells = append(cells, f(res))
				} else {
					cells = append(cells, "-")
				}
			}
		}
		each(func(res *result) string { return r.figure(res.NS) })
		each(func(res *result) string { return formatRatio(res.Ratio) })
		if both {
			if r.Speedup > 0 {
				cells = append(cells, formatRatio(r.Speedup))
			} else {
				cells = append(cells, "-")
			}
		}
		if r.Memory {
			each(func(*result) string { return "-" })
			each(func(*result) string { return "-" })
		} else {
			each(func(res *result) string { return formatCount(res.Exits) + r.perUnit() })
			each(func(res *result) string { return formatCount(res.exitsPerSecond()) })
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	var missing []string
	for _, r := range rep.Rows {
		switch {
		case r.Failed != "":
			missing = append(missing, fmt.Sprintf("  %s: FAILED: %s", r.Name, r.Failed))
		case r.Skipped != "":
			missing = append(missing, fmt.Sprintf("  %s: skipped: %s", r.Name, r.Skipped))
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "\nrows not measured:\n%s\n", strings.Join(missing, "\n"))
	}

	fmt.Fprintf(w, "\nringbox run --debug counters per unit:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head = []string{"benchmark"}
	for _, p := range rep.Platforms {
		head = append(head, label(p))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rep.Rows {
		if !r.measured() {
			fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.status())
			continue
		}
		cells := []string{r.Name}
		for _, p := range rep.Platforms {
			res := r.Platforms[p]
			if res == nil {
				cells = append(cells, "-")
				continue
			}
			c := formatCounters(res.Counters)
			if r.Bytes > 0 {
				c = "per " + r.Unit + ": " + c
			}
			cells = append(cells, c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()

	fmt.Fprintf(w, "\ntargets (informational, from this run's medians):\n")
	for _, r := range rep.Rows {
		if r.Target != nil {
			fmt.Fprintf(w, "  %s\n", r.targetLine())
		}
	}
	fmt.Fprintf(w, "\nmedians; loop rows time N operations inside the program; exits/unit: ring0 counts KVM_RUN entries\n"+
		"after the first, exit mode sums the exit.* counters; loop rows subtract a 0-operation run;\n"+
		"MB/s rows: 1 MB = 10^6 bytes, the ratios are of times (above 1: slower), exits and counters per MiB;\n"+
		"sh, gcc and make rows: exits and counters are medians of the timed runs (ringbox --debug);\n"+
		"bench took %v\n",
		time.Duration(rep.Seconds*float64(time.Second)).Round(100*time.Millisecond))
}

// figure shows a row's figure for ns per unit: MB/s for a row of bytes,
// else the time per unit.
func (r *row) figure(ns float64) string {
	if r.Memory {
		return formatMB(ns)
	}
	if r.Bytes > 0 {
		return formatRate(mbps(r.Bytes, ns))
	}
	return formatNs(ns, r.Unit)
}

// exitsPerSecond is the rate of VM exits while a row ran on res's
// platform (issue 11 asks for it beside each real-program row): its exits
// per unit over its time per unit.
func (res *result) exitsPerSecond() float64 {
	if res.NS <= 0 {
		return 0
	}
	return res.Exits / (res.NS / 1e9)
}

// perUnit is what the exits of a row of bytes are per, which its MB/s
// figure does not show; "" for other rows.
func (r *row) perUnit() string {
	if r.Bytes > 0 {
		return "/" + r.Unit
	}
	return ""
}

// mbps is MB (10^6 bytes) a second for bytes in ns nanoseconds; 0 for no
// time.
func mbps(bytes, ns float64) float64 {
	if ns <= 0 {
		return 0
	}
	return bytes / ns * 1e3
}

// formatRate shows MB/s with 3 or 4 digits.
func formatRate(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f MB/s", v)
	case v >= 10:
		return fmt.Sprintf("%.1f MB/s", v)
	}
	return fmt.Sprintf("%.2f MB/s", v)
}

// targetLine is the footer line of a row with a target.
func (r *row) targetLine() string {
	t := r.Target
	s := fmt.Sprintf("%-4s  %s: %s", t.Verdict, r.Name, t.Text)
	if r0 := r.Platforms[ring0Platform]; r0 != nil && r.measured() {
		s += fmt.Sprintf("; measured %s, %s native", r.figure(r0.NS), formatRatio(r0.Ratio))
	}
	return s
}

// failures is an error naming the rows that failed, or nil.
func (rep *report) failures() error {
	var names []string
	for _, r := range rep.Rows {
		if r.Failed != "" {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d rows failed: %s", len(names), len(rep.Rows), strings.Join(names, "; "))
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

// formatCount shows a count per unit with 3 significant digits, whole
// numbers from 1000 on.
func formatCount(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// formatCounters lists the non-zero counters by name.
func formatCounters(m map[string]float64) string {
	var parts []string
	for k, v := range m {
		if v != 0 {
			parts = append(parts, k+"="+formatCount(v))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
