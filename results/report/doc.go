// Package report renders authbench run directories as one self-contained
// HTML page: a summary table to paste into a ticket, the handshake phases of
// every run side by side, and per run its throughput with rotation events,
// its latency percentiles over time and its retries and errors per op.
//
// The charts are inline SVG drawn here, styled by inline CSS: the page loads
// nothing from anywhere, so it opens the same on a machine with no network.
// Every chart is an <svg class="chart KIND"> (KIND is throughput, latency,
// handshake or retries) and every drawn data element carries a class that
// names its series, so tests and scripts can find them.
package report
