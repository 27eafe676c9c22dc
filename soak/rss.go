package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is one reading of a process's resident memory.
type sample struct {
	at  time.Duration // since the process was first seen
	rss int64         // bytes
}

// proc is one driver process the watcher saw: a matrix child.
type proc struct {
	pid     int
	name    string // the combination, e.g. bank-vault
	first   time.Time
	samples []sample
}

// watcher samples the resident memory of every child of a parent process.
type watcher struct {
	proc   string // /proc, replaceable in tests
	parent int

	mu    sync.Mutex
	procs map[int]*proc
	order []int
}

func newWatcher(parent int) *watcher {
	return &watcher{proc: "/proc", parent: parent, procs: map[int]*proc{}}
}

// sampleOnce reads VmRSS of every current child of the parent.
func (w *watcher) sampleOnce(now time.Time) {
	entries, err := os.ReadDir(w.proc)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentOf(w.proc, pid) != w.parent {
			continue
		}
		rss, err := vmRSS(w.proc, pid)
		if err != nil {
			continue // it just exited
		}
		w.record(pid, now, rss)
	}
}

func (w *watcher) record(pid int, now time.Time, rss int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.procs[pid]
	if p == nil {
		p = &proc{pid: pid, name: combination(w.proc, pid), first: now}
		w.procs[pid] = p
		w.order = append(w.order, pid)
	}
	p.samples = append(p.samples, sample{at: now.Sub(p.first), rss: rss})
}

// run samples every interval until stop is closed.
func (w *watcher) run(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		w.sampleOnce(time.Now())
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// seen returns the processes in the order they appeared, with samples.
func (w *watcher) seen() []*proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*proc
	for _, pid := range w.order {
		if p := w.procs[pid]; len(p.samples) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// parentOf returns the parent pid from /proc/<pid>/stat (0 if unknown).
// The command name may hold spaces and parentheses: the fields start
// after the last ')'.
func parentOf(procDir string, pid int) int {
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// vmRSS returns VmRSS from /proc/<pid>/status in bytes.
func vmRSS(procDir string, pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("pid %d: unexpected VmRSS line %q", pid, line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("pid %d has no VmRSS (a zombie?)", pid)
}

// combination names a matrix child by its workload and --auth, from its
// command line (`authbench run WORKLOAD --auth MODE …`).
func combination(procDir string, pid int) string {
	b, _ := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "cmdline"))
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	name := "pid " + strconv.Itoa(pid)
	for i, a := range args {
		switch {
		case a == "run" && i+1 < len(args):
			name = args[i+1]
		case a == "--auth" && i+1 < len(args):
			return name + "-" + args[i+1]
		case a == "init" && i+1 < len(args):
			return "init-" + args[i+1]
		}
	}
	return name
}
