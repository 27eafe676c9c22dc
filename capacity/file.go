package capacity

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File names in a capacity directory.
const (
	JSONFile     = "capacity.json"
	MarkdownFile = "capacity.md"
	// FileVersion is the format version of capacity.json.
	FileVersion = 1
)

// File is capacity.json: the search's settings and, per auth mode, every
// step and the result.
type File struct {
	Version      int         `json:"version"`
	Workload     string      `json:"workload"`
	ConnMode     string      `json:"conn_mode"` // "pool" or "per-txn"
	Unit         string      `json:"unit"`      // what a rate counts: "tx/s" or "conn/s"
	Objective    Objective   `json:"objective"`
	Precision    float64     `json:"precision"`
	MaxSteps     int         `json:"max_steps"`
	StepSeconds  float64     `json:"step_seconds"`
	RotateEvery  string      `json:"rotate_every,omitempty"`
	Modes        []ModeEntry `json:"modes"`
	LatencyLabel string      `json:"latency_label"` // what the latency is: "latency from intended start" or "handshake total"
}

// ModeEntry is one auth mode's search.
type ModeEntry struct {
	Mode   string      `json:"auth_mode"`
	Probe  *StepEntry  `json:"probe,omitempty"`
	Steps  []StepEntry `json:"steps"`
	Result Result      `json:"result"`
	Error  string      `json:"error,omitempty"` // why the search could not run
}

// StepEntry is one step as recorded: its run directory (relative to the
// capacity directory), the rates and what it measured.
type StepEntry struct {
	Step
	Dir      string  `json:"dir"`
	Achieved float64 `json:"achieved"`
	Latency  Latency `json:"latency_ms"`
	Errors   int64   `json:"errors"`
	Total    int64   `json:"total"`
}

// SearchSteps returns the search's steps, for Next and Summarize.
func (m ModeEntry) SearchSteps() []Step {
	out := make([]Step, len(m.Steps))
	for i, s := range m.Steps {
		out[i] = s.Step
	}
	return out
}

// Write writes capacity.json and capacity.md into dir.
func (f *File) Write(dir string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", JSONFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, MarkdownFile), []byte(f.Markdown()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", MarkdownFile, err)
	}
	return nil
}

// ReadFile reads dir/capacity.json; ok is false when dir has none (it is
// not a capacity directory).
func ReadFile(dir string) (f *File, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("cannot read %s: %w", filepath.Join(dir, JSONFile), err)
	}
	path := filepath.Join(dir, JSONFile)
	f = &File{}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, true, fmt.Errorf("%s is not a valid capacity file: %w (the search rewrites it after every auth mode; re-run it)", path, err)
	}
	if f.Version != FileVersion {
		return nil, true, fmt.Errorf("%s is version %d, not %d: written by another authbench (re-run the search with this one)", path, f.Version, FileVersion)
	}
	return f, true, nil
}

// Markdown is the result table, one row per auth mode, with the objective
// and settings above it.
func (f *File) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Capacity of %s (%s), objective %s\n\n", f.Workload, f.ConnMode, f.Objective)
	fmt.Fprintf(&b, "Latency: %s. Steps of %gs, precision %s", f.LatencyLabel, f.StepSeconds, Pct(f.Precision))
	if f.RotateEvery != "" {
		fmt.Fprintf(&b, ", a credential rotation every %s", f.RotateEvery)
	}
	b.WriteString(".\n\n")
	for _, row := range f.Table() {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		if strings.HasPrefix(row[0], "auth") {
			b.WriteString("|" + strings.Repeat("---|", len(row)) + "\n")
		}
	}
	return b.String()
}

// Table is the result table's rows, header first.
func (f *File) Table() [][]string {
	rows := [][]string{{"auth mode", "capacity (" + f.Unit + ")", "p99 at capacity", "errors at capacity", "probe (" + f.Unit + ")",
		"first failing rate", "what broke", "steps", "search ended"}}
	for _, m := range f.Modes {
		rows = append(rows, m.row())
	}
	return rows
}

func (m ModeEntry) row() []string {
	r := []string{m.Mode, "-", "-", "-", "-", "-", "-", fmt.Sprint(len(m.Steps)), string(m.Result.Status)}
	if m.Error != "" {
		r[6], r[8] = m.Error, "error"
		return r
	}
	if m.Probe != nil {
		r[4] = Rate(m.Probe.Achieved)
	}
	if i := m.Result.Pass; i >= 0 && i < len(m.Steps) {
		s := m.Steps[i]
		r[1], r[2], r[3] = Rate(s.Rate), Ms(s.Latency.P99), fmt.Sprintf("%d (%s)", s.Errors, Pct(ratio(s.Errors, s.Total)))
	} else {
		r[1] = "0"
	}
	if i := m.Result.Fail; i >= 0 && i < len(m.Steps) {
		s := m.Steps[i]
		r[5], r[6] = Rate(s.Rate), string(s.Outcome)+": "+s.Why
	}
	return r
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
