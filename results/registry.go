package results

import (
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Registry owns every measurement of one run: the workers' Recorders, the
// cumulative histograms, connection statistics, handshake phases and events.
type Registry struct {
	ops      []string
	openLoop bool
	start    time.Time

	mu        sync.Mutex // guards everything below except conns
	recorders []*Recorder
	tickLat   []*hdr.Histogram // scratch, reset every tick
	tickSvc   []*hdr.Histogram
	intervals intervalHists // tickLat and, in an open loop, tickSvc: handed to RunFiles with each Tick
	tickCnt   []opCounts
	cumLat    []*hdr.Histogram // measured window only (after warm-up)
	cumSvc    []*hdr.Histogram
	measured  []opCounts // measured window only
	all       []opCounts // including warm-up: what the database saw
	measureS  time.Duration
	lastTick  time.Time
	events    []Event
	eventsOut int // events already handed to a tick
	phases    map[string]*hdr.Histogram
	// Faults: errors after a clean period (faults.go).
	faults      faultCounts
	retriedErrs [numClasses]int64 // measured window only
	cleanTicks  int

	// All-time histograms (warm-up included, never reset) for /metrics;
	// allSvc is nil in a closed loop.
	allLat, allSvc []*hdr.Histogram

	conns connStats
	// The storm columns of a tick: handshakes of the interval (hsMu) and
	// the connection counters at the previous tick (mu).
	hsMu                   sync.Mutex
	tickHS                 *hdr.Histogram
	lastOpened, lastFailed int64
	instances              int
}

type connStats struct {
	opened, failed, closed atomic.Int64
	totalNs                atomic.Int64
}

// NewRegistry returns a registry for a workload with the given op names.
// openLoop adds service-time histograms next to latency.
func NewRegistry(ops []string, openLoop bool, start time.Time) *Registry {
	n := len(ops)
	r := &Registry{
		ops: ops, openLoop: openLoop, start: start, lastTick: start,
		tickCnt: make([]opCounts, n), measured: make([]opCounts, n), all: make([]opCounts, n),
		phases: map[string]*hdr.Histogram{}, tickHS: NewHistogram(),
	}
	r.tickLat, r.tickSvc = newHists(n), newHists(n)
	r.intervals.lat = r.tickLat
	if openLoop {
		r.intervals.svc = r.tickSvc
	}
	r.cumLat, r.cumSvc = newHists(n), newHists(n)
	r.allLat = newHists(n)
	if openLoop {
		r.allSvc = newHists(n)
	}
	return r
}

func newHists(n int) []*hdr.Histogram {
	hs := make([]*hdr.Histogram, n)
	for i := range hs {
		hs[i] = NewHistogram()
	}
	return hs
}

// Ops returns the op names in recording order.
func (r *Registry) Ops() []string { return r.ops }

// Start returns the time the run started.
func (r *Registry) Start() time.Time { return r.start }

// NewRecorder returns a Recorder for one worker.
func (r *Registry) NewRecorder() *Recorder {
	rec := newRecorder(len(r.ops), r.openLoop)
	r.mu.Lock()
	r.recorders = append(r.recorders, rec)
	r.mu.Unlock()
	return rec
}

// ConnOpened records a successful connection that took d from the start of
// credential acquisition to ReadyForQuery.
func (r *Registry) ConnOpened(d time.Duration) {
	r.conns.opened.Add(1)
	r.conns.totalNs.Add(int64(d))
	r.hsMu.Lock()
	recordDuration(r.tickHS, d)
	r.hsMu.Unlock()
}

// SetInstances says how many fleet instances the run has (0 or 1: one
// application instance), for the share of instances each rotation reached.
func (r *Registry) SetInstances(n int) {
	r.mu.Lock()
	r.instances = n
	r.mu.Unlock()
}

// ConnFailed records a connection attempt that failed.
func (r *Registry) ConnFailed() { r.conns.failed.Add(1) }

// ConnClosed records a connection the pool or the driver closed.
func (r *Registry) ConnClosed() { r.conns.closed.Add(1) }

// Phase records the duration of one handshake phase ("credential", "tcp",
// "tls", "auth", "ready", "total").
func (r *Registry) Phase(name string, d time.Duration) {
	r.mu.Lock()
	h := r.phases[name]
	if h == nil {
		h = NewHistogram()
		r.phases[name] = h
	}
	recordDuration(h, d)
	r.mu.Unlock()
}

// PhaseNames lists the handshake phases in their natural order; phases not in
// this list sort after it.
var PhaseNames = []string{"credential", "tcp", "tls", "auth", "ready", "total"}
