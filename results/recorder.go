package results

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Class is the kind of error that ended an operation.
type Class uint8

// Error classes, in the order they appear in files and on the terminal.
const (
	ClassNone       Class = iota // the op succeeded
	ClassRetryable               // serialization failure or deadlock after the last retry
	ClassConnection              // network, TLS transport, server shutdown, pool closed
	ClassAuth                    // the server or the credential source refused the credentials
	ClassTimeout                 // a deadline passed
	ClassOther                   // anything else (constraint violation, syntax, …)
	numClasses
)

var classNames = [numClasses]string{"none", "retryable", "connection", "auth", "timeout", "other"}

// String returns the class name used in files, e.g. "retryable".
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "unknown"
}

// opCounts are the counters kept per op.
type opCounts struct {
	ok, errors, retriedTxns, retries int64
	ambiguous                        int64 // failed after a COMMIT of unknown outcome
	byClass                          [numClasses]int64
	outcomes                         map[string]int64
}

func (c *opCounts) add(o *opCounts) {
	c.ok += o.ok
	c.errors += o.errors
	c.retriedTxns += o.retriedTxns
	c.retries += o.retries
	c.ambiguous += o.ambiguous
	for i := range c.byClass {
		c.byClass[i] += o.byClass[i]
	}
	for k, v := range o.outcomes {
		if c.outcomes == nil {
			c.outcomes = map[string]int64{}
		}
		c.outcomes[k] += v
	}
}

// Recorder is one worker's private set of histograms and counters. Only its
// worker records into it; the Registry drains it once a tick, so its mutex
// is never contended for longer than that.
type Recorder struct {
	mu      sync.Mutex
	lat     []*hdr.Histogram // per op: latency from intended start
	svc     []*hdr.Histogram // per op: service time (open loop only)
	counts  []opCounts
	openLoo bool
}

func newRecorder(nOps int, openLoop bool) *Recorder {
	r := &Recorder{
		lat:     make([]*hdr.Histogram, nOps),
		counts:  make([]opCounts, nOps),
		openLoo: openLoop,
	}
	if openLoop {
		r.svc = make([]*hdr.Histogram, nOps)
	}
	return r
}

// Record adds one finished operation: op is the index into the workload's
// op names, latency is measured from the intended start (equal to service
// in a closed loop), retries is the number of retried attempts, class is
// ClassNone on success.
func (r *Recorder) Record(op int, latency, service time.Duration, retries int, class Class) {
	r.mu.Lock()
	c := &r.counts[op]
	if retries > 0 {
		c.retriedTxns++
		c.retries += int64(retries)
	}
	if class != ClassNone {
		c.errors++
		c.byClass[class]++
		r.mu.Unlock()
		return
	}
	c.ok++
	h := r.lat[op]
	if h == nil {
		h = NewHistogram()
		r.lat[op] = h
	}
	recordDuration(h, latency)
	if r.openLoo {
		s := r.svc[op]
		if s == nil {
			s = NewHistogram()
			r.svc[op] = s
		}
		recordDuration(s, service)
	}
	r.mu.Unlock()
}

// Outcome counts a business outcome of op (for example "insufficient_funds"):
// the transaction was rolled back on purpose, which is neither a success
// nor an error. Retries before it count like any op's.
func (r *Recorder) Outcome(op int, name string, retries int) {
	r.mu.Lock()
	c := &r.counts[op]
	if retries > 0 {
		c.retriedTxns++
		c.retries += int64(retries)
	}
	if c.outcomes == nil {
		c.outcomes = map[string]int64{}
	}
	c.outcomes[name]++
	r.mu.Unlock()
}

// Ambiguous counts a transaction of op that failed (or was abandoned at the
// stop) after a COMMIT whose outcome is unknown: the database may hold its
// effect. Its failure, if any, is recorded apart with Record.
func (r *Recorder) Ambiguous(op int) {
	r.mu.Lock()
	r.counts[op].ambiguous++
	r.mu.Unlock()
}

// drainInto merges this recorder's interval data into the given per-op
// accumulators and resets it.
func (r *Recorder) drainInto(lat, svc []*hdr.Histogram, counts []opCounts) {
	r.mu.Lock()
	for i := range r.counts {
		if h := r.lat[i]; h != nil && h.TotalCount() > 0 {
			lat[i].Merge(h)
			h.Reset()
		}
		if r.svc != nil {
			if h := r.svc[i]; h != nil && h.TotalCount() > 0 {
				svc[i].Merge(h)
				h.Reset()
			}
		}
		counts[i].add(&r.counts[i])
		r.counts[i] = opCounts{}
	}
	r.mu.Unlock()
}
