package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the comparison ran.
type Machine struct {
	CPUs     int     `json:"cpus"`             // logical CPUs (nproc)
	CPUModel string  `json:"cpu_model"`        // "model name" of /proc/cpuinfo
	MemGiB   float64 `json:"mem_gib"`          // MemTotal of /proc/meminfo
	Kernel   string  `json:"kernel,omitempty"` // Linux release
	GoVer    string  `json:"go_version"`       // the toolchain that built benchcmp
}

// thisMachine reads /proc for the CPU model and memory.
func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVer: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseFloat(strings.Fields(procField("/proc/meminfo", "MemTotal") + " 0")[0], 64); err == nil {
		m.MemGiB = kb / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is the 1-minute load average (0 when unknown).
func loadAverage() float64 { return loadAverages()[0] }

// loadAverages are the 1-, 5- and 15-minute load averages.
func loadAverages() [3]float64 {
	var out [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	for i, f := range strings.Fields(string(b)) {
		if i < len(out) {
			out[i], _ = strconv.ParseFloat(f, 64)
		}
	}
	return out
}
