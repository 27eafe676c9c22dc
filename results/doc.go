// Package results holds everything authbench measures during a run and the
// files it writes afterwards.
//
// The driver records into per-worker Recorders (one uncontended mutex each);
// once a second the Registry folds every Recorder into a Tick, which goes to
// the terminal, to ticks.ndjson and to one HdrHistogram interval log per op.
// At the end the Registry builds a Summary (summary.json and the __total /
// __result rows). Latencies are recorded in microseconds.
package results
