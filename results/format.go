package results

import (
	"fmt"
	"io"
	"strings"
)

const (
	tickHeader  = "_elapsed___errors__retries__ops/sec(inst)___ops/sec(cum)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)"
	stormHeader = "__conn/s_connfail_____open_hsp99(ms)"
	totalHeader = "_elapsed___errors__retries_____ops(total)___ops/sec(cum)__avg(ms)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)"
	// HeaderEvery is how many tick lines go between repeated headers.
	HeaderEvery = 20
)

// Printer writes the per-second lines in the format of `cockroach workload
// run`, with a retries column, repeating the header every HeaderEvery lines.
type Printer struct {
	W io.Writer
	// Shape, when set, follows every header: the run's transaction shape
	// (Summary.Shape), so that lines of two shapes are never mistaken.
	Shape string
	// Storm adds the connection columns of a fleet run: connections opened
	// and failed in the second, open at its end, handshake p99 (ms).
	Storm bool
	lines int
}

// PrintTick writes one line per op and one line per event of t; a fleet
// instance's events are left to the files (the storm columns count them).
func (p *Printer) PrintTick(t *Tick) {
	for _, e := range t.Events {
		if e.Instance > 0 {
			continue
		}
		fmt.Fprintf(p.W, "%7.1fs  [%s] %s %s\n", e.Elapsed, e.Kind, e.Source, e.Detail)
	}
	for _, o := range t.Ops {
		if p.lines%HeaderEvery == 0 {
			header := tickHeader
			if p.Storm {
				header += stormHeader
			}
			if p.Shape != "" {
				header += "  " + p.Shape
			}
			fmt.Fprintln(p.W, header)
		}
		p.lines++
		suffix := o.Op
		if t.Warmup {
			suffix += " (warm-up)"
		}
		storm := ""
		if p.Storm {
			storm = fmt.Sprintf(" %8d %8d %8d %10.1f", t.Connects, t.ConnFailures, t.OpenConns, t.HandshakeP99)
		}
		fmt.Fprintf(p.W, "%7.1fs %8d %8d %14.1f %14.1f %8.1f %8.1f %8.1f %8.1f%s %s\n",
			t.Elapsed, o.Errors, o.Retries, o.OpsPerSec, o.CumPerSec, o.P50, o.P95, o.P99, o.Max, storm, suffix)
	}
}

// PrintSummary writes the __total rows (one per op), the __result row and
// the pgbench-style retry and connection lines.
func PrintSummary(w io.Writer, s *Summary) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, totalHeader+"__total")
	for _, o := range s.Ops {
		printTotal(w, s.DurationS, o)
	}
	all := s.Total
	all.Op = "__result"
	fmt.Fprintln(w)
	fmt.Fprintln(w, totalHeader+"__result")
	printTotal(w, s.DurationS, all)
	fmt.Fprintln(w)
	printPgbenchLines(w, s, all)
}

func printTotal(w io.Writer, durS float64, o OpSummary) {
	l := o.Latency
	fmt.Fprintf(w, "%7.1fs %8d %8d %14d %14.1f %8.1f %8.1f %8.1f %8.1f %8.1f  %s\n",
		durS, o.Errors, o.Retries, o.Count, o.OpsPerSec, l.Mean, l.P50, l.P95, l.P99, l.Max, o.Op)
}

func printPgbenchLines(w io.Writer, s *Summary, all OpSummary) {
	if s.Command == "handshake" {
		fmt.Fprintf(w, "connections per second: %.1f\n", all.OpsPerSec)
		fmt.Fprintf(w, "failed connections: %d\n", all.Errors)
		printPhases(w, s)
		return
	}
	if shape := s.Shape(); shape != "" {
		fmt.Fprintf(w, "transaction shape: %s\n", shape)
	}
	txns := all.Count + all.Errors
	pct := func(n int64) float64 {
		if txns == 0 {
			return 0
		}
		return 100 * float64(n) / float64(txns)
	}
	fmt.Fprintf(w, "number of transactions retried: %d (%.3f%%)\n", all.RetriedTxns, pct(all.RetriedTxns))
	fmt.Fprintf(w, "total number of retries: %d\n", all.Retries)
	fmt.Fprintf(w, "number of failed transactions: %d (%.3f%%)\n", all.Errors, pct(all.Errors))
	if len(s.Errors) > 0 {
		fmt.Fprintf(w, "failed transactions by class: %s\n", classLine(s.Errors))
	}
	if all.Ambiguous > 0 {
		fmt.Fprintf(w, "transactions with an unknown outcome (COMMIT sent, no answer, not settled by a retry): %d\n", all.Ambiguous)
	}
	if line := classLine(s.Retried); line != "" {
		fmt.Fprintf(w, "failed attempts retried, by class: %s\n", line)
	}
	for _, o := range s.Ops {
		for k, v := range o.Outcomes {
			fmt.Fprintf(w, "outcome %s/%s: %d\n", o.Op, k, v)
		}
	}
	fmt.Fprintf(w, "connections opened: %d (failed: %d)\n", s.Connections.Opened, s.Connections.Failed)
	fmt.Fprintf(w, "average connection time: %.3f ms\n", s.Connections.AvgConnectMs)
	printPhases(w, s)
}

func printPhases(w io.Writer, s *Summary) {
	if len(s.Handshake) > 0 {
		fmt.Fprintln(w, "handshake phases (ms):   p50      p95      p99      max")
		for _, name := range PhaseOrder(s.Handshake) {
			p := s.Handshake[name]
			fmt.Fprintf(w, "  %-12s %10.2f %8.2f %8.2f %8.2f\n", name, p.P50, p.P95, p.P99, p.Max)
		}
	}
	printRotations(w, s.Rotations)
	if s.RotationsFailed > 0 {
		fmt.Fprintf(w, "forced rotations that failed: %d (see the rotation-failed events)\n", s.RotationsFailed)
	}
	printFaults(w, s.Faults)
	printTLS(w, s.Server)
}

func printRotations(w io.Writer, rs []RotationImpact) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintln(w, "rotations:")
	printImpacts(w, rs)
}

// printFaults writes the fault table: errors after a clean period, each
// with its dip, errors and time back to 90 % of the throughput before it.
func printFaults(w io.Writer, fs []RotationImpact) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintln(w, "faults (errors after a clean period):")
	printImpacts(w, fs)
}

// printTLS says how the server's certificate was verified, loudly when
// --insecure weakened it.
func printTLS(w io.Writer, si ServerInfo) {
	if si.TLSWeakened {
		fmt.Fprintf(w, "TLS: WEAKENED to sslmode=%s by --insecure: the server's identity was not fully verified\n", si.TLS)
	} else if si.Peer != "" {
		fmt.Fprintf(w, "TLS: the server verified as %s (its X509-SVID against the SPIFFE trust bundle)\n", si.Peer)
	} else if si.TLS != "" {
		fmt.Fprintf(w, "TLS: sslmode=%s\n", si.TLS)
	}
}

// classLine renders counts by class in class order ("connection=3 auth=1").
func classLine(m map[string]int64) string {
	var parts []string
	for _, c := range []Class{ClassRetryable, ClassConnection, ClassAuth, ClassTimeout, ClassOther} {
		if n := m[c.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", c, n))
		}
	}
	return strings.Join(parts, " ")
}

func printImpacts(w io.Writer, rs []RotationImpact) {
	fmt.Fprintln(w, "  elapsed  source    event          dip   errors(10s)  recovery  peak conn/s  connfail  hs p99(ms)  txn p99(ms)  instances")
	for _, r := range rs {
		rec := "never"
		if r.RecoveryS >= 0 {
			rec = fmt.Sprintf("%.0fs", r.RecoveryS)
		}
		if r.NoConnChange {
			fmt.Fprintf(w, "  %6.1fs  %-8s  %-12s %5s  %11d  no connection changed\n", r.Elapsed, r.Source, r.Kind, "-", r.ErrorsWindow)
			continue
		}
		inst := "-"
		if r.InstancesShare > 0 || r.InstancesRotated > 0 {
			inst = fmt.Sprintf("%d (%.0f%%)", r.InstancesRotated, 100*r.InstancesShare)
		}
		fmt.Fprintf(w, "  %6.1fs  %-8s  %-12s %5.2f  %11d  %8s  %11d  %8d  %10.1f  %11.1f  %s\n",
			r.Elapsed, r.Source, r.Kind, r.Dip, r.ErrorsWindow, rec, r.PeakConnectsS, r.ConnFailures, r.HandshakeP99, r.TxnP99, inst)
	}
}
