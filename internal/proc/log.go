package proc

import (
	"os"
	"strings"
)

// LastLine returns the last line of text that looks like an error, or else
// its last non-empty line.
func LastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		// PostgreSQL's log prefix (time, pid) is noise: keep "FATAL: ...".
		for _, mark := range []string{"FATAL:", "PANIC:", "ERROR:"} {
			if j := strings.Index(lines[i], mark); j >= 0 {
				return strings.Join(strings.Fields(lines[i][j:]), " ")
			}
		}
		if strings.Contains(lines[i], "ALERT") || strings.Contains(lines[i], "error") {
			return strings.TrimSpace(lines[i])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// FileTail returns the telling last line of a log file ("" if unreadable).
func FileTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	return LastLine(string(data))
}
