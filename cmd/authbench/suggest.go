package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// didYouMean is " (did you mean X?)" for the name closest to word within a
// typo's distance (at most 2 edits, fewer for short words), or "".
func didYouMean(word string, names []string) string {
	best := closest(word, names)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// closest is the name closest to word within a typo's distance, or "".
func closest(word string, names []string) string {
	best, bestD := "", min(2, len(word)/3)+1
	for _, n := range names {
		if d := editDistance(word, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// flagHint is the did-you-mean for a pflag "unknown flag: --name" error.
func flagHint(fs *pflag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated == "" {
			names = append(names, "--"+f.Name)
		}
	})
	if hint := didYouMean("--"+name, names); hint != "" || fs.Lookup("auth") == nil {
		return hint
	}
	return otherModesHint(name)
}

// otherModesHint is " (did you mean --X of --auth MODE?)" for the auth
// mode flag closest to name, or "".
func otherModesHint(name string) string {
	owner := modeFlagOwners(false)
	best := closest(name, slices.Sorted(maps.Keys(owner)))
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean --%s of --auth %s?)", best, owner[best])
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
