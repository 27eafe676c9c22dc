package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// logLatencies reads pgbench's per-transaction logs (prefix.<pid> and, one
// per extra thread, prefix.<pid>.<n>) and returns every committed
// transaction's latency in microseconds. With -R pgbench measures that
// latency from the scheduled start, so it includes the schedule lag, as
// authbench's open-loop latency does. Failed and skipped transactions
// (whose time field is a word) are left out, as authbench leaves errors
// out of its latency histogram.
func logLatencies(prefix string) ([]int64, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgbench transaction logs at %s.*", prefix)
	}
	var out []int64
	for _, f := range files {
		if out, err = readLogFile(f, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readLogFile(path string, out []int64) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return out, err
	}
	defer f.Close()
	return parseLog(f, out)
}

// parseLog appends the latency field (the third) of every line whose
// latency is a number.
func parseLog(r io.Reader, out []int64) ([]int64, error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 6 {
			return out, fmt.Errorf("pgbench log line %d has %d fields, want at least 6", n, len(fields))
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			continue // "failed", "skipped", "serialization", "deadlock"
		}
		out = append(out, us)
	}
	return out, sc.Err()
}

// percentile returns the q-th percentile (0 < q ≤ 100) of vs by the
// nearest-rank method; it sorts vs.
func percentile(vs []int64, q float64) int64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	rank := int(math.Ceil(q / 100 * float64(len(vs))))
	return vs[min(max(rank, 1), len(vs))-1]
}
