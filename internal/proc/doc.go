// Package proc supervises the stack's server processes: it starts them
// detached from the caller (own process group, output to a log file, pid to
// a pid file), waits until a probe says they serve, stops them by pid
// (a polite signal, SIGKILL as a last resort), tells whether a pid is alive
// (zombies count as gone) and picks the telling last line of a log.
package proc
