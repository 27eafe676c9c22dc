package proc

import (
	"fmt"
	"syscall"
)

// RaiseFDLimit raises this process's soft limit on open files to its hard
// limit when the soft one is below need (children started afterwards
// inherit it) and returns the soft limit now in force. It fails, saying
// how to fix it, when even the hard limit is below need.
func RaiseFDLimit(need uint64, what string) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading the open-file limit: %w", err)
	}
	if lim.Cur >= need {
		return lim.Cur, nil
	}
	if lim.Max < need {
		return lim.Cur, fmt.Errorf("%s needs %d open files but this shell allows at most %d (ulimit -Hn): raise the hard limit (ulimit -Hn %d as root, or nofile in /etc/security/limits.conf) or ask for fewer connections",
			what, need, lim.Max, need)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("raising the open-file limit to %d for %s: %w", lim.Max, what, err)
	}
	return lim.Cur, nil
}
