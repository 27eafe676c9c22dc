// Package results holds everything authbench measures during a run and the
// files it writes afterwards.
//
// The driver records into per-worker Recorders (one uncontended mutex each);
// once a second the Registry folds every Recorder into a Tick, which goes to
// the terminal, to ticks.ndjson and to one HdrHistogram interval log per op
// (and, in an open loop, service.hlog with each op's service times). At the
// end the Registry builds a Summary (summary.json and the __total /
// __result rows). Latencies are recorded in microseconds.
//
// A run directory is read back by ReadRun (rundir.go); Merge adds several
// runs of one workload together (merge.go, mergeticks.go) and Write writes
// the result as a run directory (mergewrite.go). A live run and a merge
// build their summary's op rows with the same builder (Summary.setOps).
package results
