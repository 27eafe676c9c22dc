package authmodes

import (
	"fmt"

	"github.com/spf13/pflag"
)

// DeprecatedAlias registers old as a hidden alias of fs's flag name, for
// one release after a rename: both set the same value, and using old makes
// pflag print one deprecation line to fs.Output(). name must already be
// registered on fs.
func DeprecatedAlias(fs *pflag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	fs.AddFlag(&pflag.Flag{Name: old, Value: f.Value, DefValue: f.DefValue, NoOptDefVal: f.NoOptDefVal, Usage: f.Usage})
	_ = fs.MarkDeprecated(old, fmt.Sprintf("use --%s instead (the old name goes away in the next release)", name))
}

// AliasOf returns the flag of fs that f is a deprecated alias of (they
// share one value), or f itself.
func AliasOf(fs *pflag.FlagSet, f *pflag.Flag) *pflag.Flag {
	if f.Deprecated == "" {
		return f
	}
	canonical := f
	fs.VisitAll(func(g *pflag.Flag) {
		if g.Deprecated == "" && g.Value == f.Value {
			canonical = g
		}
	})
	return canonical
}

// UserIssuer is implemented by modes whose credentials name the SQL user:
// Vault issues a user with each credential set. Such a mode needs no
// --user; Configure sets cfg.ConnConfig.User.
type UserIssuer interface {
	UserFromCredentials() bool
}

// IssuesUser reports whether m names the SQL user itself (UserIssuer).
func IssuesUser(m Mode) bool {
	ui, ok := m.(UserIssuer)
	return ok && ui.UserFromCredentials()
}

// Changed reports whether fs's flag name, or a deprecated alias of it, was
// set on the command line.
func Changed(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	changed := false
	fs.VisitAll(func(g *pflag.Flag) {
		changed = changed || (g.Changed && f != nil && g.Value == f.Value)
	})
	return changed
}
