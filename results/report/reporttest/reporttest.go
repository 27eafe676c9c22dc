// Package reporttest writes synthetic but realistic run directories, through
// the same results.Registry and results.RunFiles that `authbench run` uses,
// for the tests of report, merge and the commands that read run directories.
package reporttest

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/results"
)

// Spec describes one synthetic run.
type Spec struct {
	Workload string    // default "bank"
	Auth     string    // default "cert"
	Ops      []string  // default {"transfer"}
	Start    time.Time // default 2026-01-01T00:00:00Z
	Seconds  int       // ticks of one second; default 20
	Warmup   int       // the first Warmup ticks are warm-up
	Rate     int       // successful ops per second of each op at baseline; default 200
	Rotate   []int     // seconds after which a rotation happens: throughput dips for 2 s
	// Faults are the seconds at which a fault begins: for faultSeconds s
	// throughput falls to a fifth, ops fail with connection errors, failed
	// attempts are retried (connection and auth) and one COMMIT's outcome
	// is lost. Leave 3 s or more without errors before each, as a real
	// run needs, so that the registry records a fault event.
	Faults []int
	Seed   uint64        // latencies, retries and errors are drawn from it
	Base   time.Duration // median latency; default 4 ms
}

func (sp *Spec) defaults() {
	if sp.Workload == "" {
		sp.Workload = "bank"
	}
	if sp.Auth == "" {
		sp.Auth = "cert"
	}
	if len(sp.Ops) == 0 {
		sp.Ops = []string{"transfer"}
	}
	if sp.Start.IsZero() {
		sp.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if sp.Seconds == 0 {
		sp.Seconds = 20
	}
	if sp.Rate == 0 {
		sp.Rate = 200
	}
	if sp.Base == 0 {
		sp.Base = 4 * time.Millisecond
	}
}

// phaseBase is each handshake phase's typical duration per auth mode.
var phaseBase = map[string]map[string]time.Duration{
	"cert":     {"credential": 2 * time.Microsecond, "tcp": 200 * time.Microsecond, "tls": 5 * time.Millisecond, "auth": 3 * time.Millisecond, "ready": 400 * time.Microsecond},
	"password": {"credential": 2 * time.Microsecond, "tcp": 200 * time.Microsecond, "tls": 4 * time.Millisecond, "auth": 9 * time.Millisecond, "ready": 400 * time.Microsecond},
	"vault":    {"credential": 6 * time.Millisecond, "tcp": 200 * time.Microsecond, "tls": 4 * time.Millisecond, "auth": 8 * time.Millisecond, "ready": 400 * time.Microsecond},
	"gssapi":   {"credential": 3 * time.Millisecond, "tcp": 200 * time.Microsecond, "tls": 4 * time.Millisecond, "auth": 5 * time.Millisecond, "ready": 400 * time.Microsecond},
	"spiffe":   {"credential": 1 * time.Millisecond, "tcp": 200 * time.Microsecond, "tls": 5 * time.Millisecond, "auth": 3 * time.Millisecond, "ready": 400 * time.Microsecond},
}

// faultSeconds is how long a Spec's fault lasts.
const faultSeconds = 3

// Write writes the run directory dir as `authbench run` would and returns
// its summary.
func Write(dir string, sp Spec) (*results.Summary, error) {
	sp.defaults()
	rng := rand.New(rand.NewPCG(sp.Seed, 7))
	reg := results.NewRegistry(sp.Ops, false, sp.Start)
	files, err := results.CreateRunFiles(dir, sp.Ops, sp.Start.UnixMilli())
	if err != nil {
		return nil, err
	}
	handshakes(reg, rng, sp)
	rec := reg.NewRecorder()
	var events []results.Event
	for k := 0; k < sp.Seconds; k++ {
		end := sp.Start.Add(time.Duration(k+1) * time.Second)
		dip := dipped(sp.Rotate, k)
		fault, first := faulted(sp.Faults, k)
		for op := range sp.Ops {
			if fault {
				faultSecond(reg, rec, rng, sp, op, first)
				continue
			}
			recordSecond(rec, rng, sp, op, dip)
		}
		tick := reg.Tick(end, k < sp.Warmup)
		tick.Events = append(tick.Events, secondEvents(sp, k, end)...)
		events = append(events, tick.Events...)
		if err := files.WriteTick(tick); err != nil {
			files.Close()
			return nil, err
		}
	}
	s := summarize(reg, files, sp, events)
	if err := s.WriteJSON(dir); err != nil {
		files.Close()
		return nil, err
	}
	if err := files.Close(); err != nil {
		return nil, err
	}
	return s, reg.WriteHandshakeLog(dir)
}

// handshakes records 24 connections' phases, drawn around the auth mode's
// typical durations.
func handshakes(reg *results.Registry, rng *rand.Rand, sp Spec) {
	base := phaseBase[sp.Auth]
	if base == nil {
		base = phaseBase["cert"]
	}
	for c := 0; c < 24; c++ {
		var total time.Duration
		for _, ph := range []string{"credential", "tcp", "tls", "auth", "ready"} {
			d := time.Duration(float64(base[ph]) * (0.7 + rng.ExpFloat64()*0.5))
			reg.Phase(ph, d)
			total += d
		}
		reg.Phase("total", total)
		reg.ConnOpened(total)
	}
}

// dipped tells whether second k falls in the two seconds after a rotation.
func dipped(rotate []int, k int) bool {
	for _, r := range rotate {
		if k >= r && k < r+2 {
			return true
		}
	}
	return false
}

// faulted tells whether second k falls in a fault, and whether it is the
// fault's first second.
func faulted(faults []int, k int) (in, first bool) {
	for _, f := range faults {
		if k >= f && k < f+faultSeconds {
			return true, k == f
		}
	}
	return false, false
}

// faultSecond records one second of one op during a fault: a fifth of
// Rate at five times the latency, five failed, eight failed attempts
// retried (six connection, two auth) and, in the first second, one
// transaction of unknown outcome.
func faultSecond(reg *results.Registry, rec *results.Recorder, rng *rand.Rand, sp Spec, op int, first bool) {
	for j := 0; j < sp.Rate/5; j++ {
		rec.Record(op, time.Duration(float64(sp.Base)*5*(0.5+rng.ExpFloat64()*0.6)), 0, 1, results.ClassNone)
	}
	for j := 0; j < 5; j++ {
		rec.Record(op, 200*time.Millisecond, 0, 0, results.ClassConnection)
	}
	for j := 0; j < 8; j++ {
		c := results.ClassConnection
		if j%4 == 3 {
			c = results.ClassAuth
		}
		reg.AttemptFailed(c)
	}
	if first {
		rec.Ambiguous(op)
	}
}

// recordSecond records one second of one op: Rate successes (a third of
// them after a dip), some retried, and a few connection errors in a dip.
func recordSecond(rec *results.Recorder, rng *rand.Rand, sp Spec, op int, dip bool) {
	n, slow := sp.Rate, 1.0
	if dip {
		n, slow = sp.Rate/3, 3
	}
	for j := 0; j < n; j++ {
		lat := time.Duration(float64(sp.Base) * slow * (0.5 + rng.ExpFloat64()*0.6) * (1 + 0.3*float64(op)))
		retries := 0
		if rng.IntN(20) == 0 {
			retries = 1 + rng.IntN(3)
		}
		rec.Record(op, lat, 0, retries, results.ClassNone)
	}
	if dip {
		for j := 0; j < 3; j++ {
			rec.Record(op, 30*time.Millisecond, 0, 0, results.ClassConnection)
		}
	}
}

// secondEvents returns the events of second k: a rotation where the spec
// asks for one, and a connection retired now and then.
func secondEvents(sp Spec, k int, end time.Time) []results.Event {
	var out []results.Event
	for _, r := range sp.Rotate {
		if r == k {
			t := end.Add(-700 * time.Millisecond)
			out = append(out, results.Event{Time: t, Elapsed: t.Sub(sp.Start).Seconds(), Kind: "rotation",
				Source: sp.Auth, Detail: fmt.Sprintf("serial %d", 1000+k), Rotation: true})
		}
	}
	if k%7 == 3 {
		t := end.Add(-300 * time.Millisecond)
		out = append(out, results.Event{Time: t, Elapsed: t.Sub(sp.Start).Seconds(), Kind: "retire", Source: "pool"})
	}
	return out
}

// AuthModes are the five auth modes a matrix compares.
var AuthModes = []string{"password", "cert", "gssapi", "spiffe", "vault"}

// OrdersOps are the orders workload's ops.
var OrdersOps = []string{"new_customer", "list_customers", "new_order", "get_order", "update_price"}

// WriteMatrix writes what `authbench matrix` leaves in root: one run
// directory <workload>-<auth> for the bank and orders workloads with each
// of AuthModes, a rotation in each, and returns their paths in order.
func WriteMatrix(root string) ([]string, error) {
	var dirs []string
	for wi, w := range []Spec{{Workload: "bank"}, {Workload: "orders", Ops: OrdersOps, Rate: 60}} {
		for ai, auth := range AuthModes {
			sp := w
			sp.Auth, sp.Seconds, sp.Warmup, sp.Rotate = auth, 12, 1, []int{6}
			sp.Seed = uint64(10*wi + ai + 1)
			dir := filepath.Join(root, sp.Workload+"-"+auth)
			if _, err := Write(dir, sp); err != nil {
				return nil, err
			}
			dirs = append(dirs, dir)
		}
	}
	return dirs, nil
}

// summarize builds the run's summary as `authbench run` fills it in.
func summarize(reg *results.Registry, files *results.RunFiles, sp Spec, events []results.Event) *results.Summary {
	end := sp.Start.Add(time.Duration(sp.Seconds) * time.Second)
	s := reg.Summary(end, files.Points())
	id := make([]byte, 16)
	for i := range id {
		id[i] = byte(sp.Seed>>(8*(i%8))) ^ byte(i*31)
	}
	s.Command, s.Workload, s.AuthMode, s.RunID = "run", sp.Workload, sp.Auth, hex.EncodeToString(id)
	s.Config = map[string]string{"auth": sp.Auth, "concurrency": "8", "conn-mode": "pool"}
	s.Server = results.ServerInfo{Version: "15.18 (synthetic)", TLS: "verify-full"}
	s.StopReason = "duration"
	if events == nil {
		events = []results.Event{}
	}
	s.Events, s.Rotations = events, results.RotationImpacts(events, files.Points())
	return s
}
