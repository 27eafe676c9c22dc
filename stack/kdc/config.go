package kdc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Defaults applied by Start to zero Config fields that no earlier Start stored.
const (
	DefaultRealm          = "EXAMPLE.COM"
	DefaultTicketLifetime = 10 * time.Hour
	DefaultRenewLifetime  = 7 * 24 * time.Hour
)

// Enctypes are the key types the KDC creates and the clients request. Both MIT
// Kerberos and gokrb5 support them; MIT's newer aes*-sha2 and camellia types
// are left out on purpose.
const Enctypes = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96"

// File names inside Config.Dir.
const (
	kdcConfFile  = "kdc.conf"
	krb5ConfFile = "krb5.conf"
	aclFile      = "kadm5.acl"
	dbFile       = "principal"
	stashFile    = "stash"
	stateFile    = "kdc.json"
	pidFile      = "krb5kdc.pid"
	logFile      = "krb5kdc.log"
	outFile      = "krb5kdc.out"
	adminLogFile = "kadmin.log"
)

// Config says where and how Start runs the KDC. Zero fields take the value a
// previous Start stored in Dir, else the default.
type Config struct {
	// Dir holds everything: profiles, principal database, stash, logs, pid file.
	Dir string
	// Realm is the Kerberos realm; default "EXAMPLE.COM".
	Realm string
	// Port is the UDP and TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// TicketLifetime is the maximum ticket life of every principal, krbtgt
	// included; default 10h. Short values exercise renewal.
	TicketLifetime time.Duration
	// RenewLifetime is the maximum renewable life; default 7 days.
	RenewLifetime time.Duration
}

// state is what kdc.json remembers between Start, Load and Stop.
type state struct {
	Realm          string `json:"realm"`
	Port           int    `json:"port"`
	TicketLifetime int64  `json:"ticket_lifetime_seconds"`
	RenewLifetime  int64  `json:"renew_lifetime_seconds"`
}

var realmRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// resolve merges cfg over a previously stored state and the defaults.
// prev may be nil. Port stays 0 when neither cfg nor prev has one.
func resolve(cfg Config, prev *state) (state, error) {
	s := state{
		Realm:          cfg.Realm,
		Port:           cfg.Port,
		TicketLifetime: seconds(cfg.TicketLifetime),
		RenewLifetime:  seconds(cfg.RenewLifetime),
	}
	if prev != nil {
		if s.Realm != "" && s.Realm != prev.Realm {
			return s, fmt.Errorf("kdc: %s already holds realm %s, not %s: use that realm or a new directory", cfg.Dir, prev.Realm, s.Realm)
		}
		s.Realm = prev.Realm
		s.Port = orInt(s.Port, prev.Port)
		s.TicketLifetime = orInt64(s.TicketLifetime, prev.TicketLifetime)
		s.RenewLifetime = orInt64(s.RenewLifetime, prev.RenewLifetime)
	}
	s.Realm = orString(s.Realm, DefaultRealm)
	s.TicketLifetime = orInt64(s.TicketLifetime, seconds(DefaultTicketLifetime))
	s.RenewLifetime = orInt64(s.RenewLifetime, seconds(DefaultRenewLifetime))
	return s, validate(cfg, s)
}

func validate(cfg Config, s state) error {
	switch {
	case cfg.Dir == "":
		return errors.New("kdc: Config.Dir is empty: set it to the stack's state directory")
	case !realmRE.MatchString(s.Realm):
		return fmt.Errorf("kdc: realm %q has characters other than letters, digits, '.', '_' and '-': use e.g. EXAMPLE.COM", s.Realm)
	case s.Port < 0 || s.Port > 65535:
		return fmt.Errorf("kdc: port %d is out of range: use 1-65535, or 0 for a free port", s.Port)
	case badLifetime(cfg.TicketLifetime) || badLifetime(cfg.RenewLifetime):
		return errors.New("kdc: ticket or renew lifetime is negative or under 1s: Kerberos counts whole seconds, use 0 for the default or at least 1s")
	}
	return nil
}

func badLifetime(d time.Duration) bool { return d < 0 || (d > 0 && d < time.Second) }

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orInt64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// kdcConf renders kdc.conf. dir must be absolute: the KDC does not resolve
// relative paths against the profile's directory.
func kdcConf(dir string, s state) string {
	p := func(name string) string { return filepath.Join(dir, name) }
	var b strings.Builder
	fmt.Fprintf(&b, "[kdcdefaults]\n")
	fmt.Fprintf(&b, "\tkdc_listen = 127.0.0.1:%d\n", s.Port)
	fmt.Fprintf(&b, "\tkdc_tcp_listen = 127.0.0.1:%d\n\n", s.Port)
	fmt.Fprintf(&b, "[realms]\n\t%s = {\n", s.Realm)
	fmt.Fprintf(&b, "\t\tdatabase_name = %s\n", p(dbFile))
	fmt.Fprintf(&b, "\t\tkey_stash_file = %s\n", p(stashFile))
	fmt.Fprintf(&b, "\t\tacl_file = %s\n", p(aclFile))
	fmt.Fprintf(&b, "\t\tmax_life = %ds\n", s.TicketLifetime)
	fmt.Fprintf(&b, "\t\tmax_renewable_life = %ds\n", s.RenewLifetime)
	fmt.Fprintf(&b, "\t\tmaster_key_type = aes256-cts-hmac-sha1-96\n")
	fmt.Fprintf(&b, "\t\tsupported_enctypes = %s\n", supportedEnctypes())
	fmt.Fprintf(&b, "\t}\n\n")
	fmt.Fprintf(&b, "[logging]\n")
	fmt.Fprintf(&b, "\tkdc = FILE:%s\n", p(logFile))
	fmt.Fprintf(&b, "\tadmin_server = FILE:%s\n", p(adminLogFile))
	fmt.Fprintf(&b, "\tdefault = FILE:%s\n", p(logFile))
	return b.String()
}

func supportedEnctypes() string {
	var out []string
	for _, e := range strings.Fields(Enctypes) {
		out = append(out, e+":normal")
	}
	return strings.Join(out, " ")
}

// krb5Conf renders the client profile. dns_canonicalize_hostname=false keeps
// host-based names such as postgres@localhost from turning into
// localhost.localdomain.
func krb5Conf(s state) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[libdefaults]\n")
	fmt.Fprintf(&b, "\tdefault_realm = %s\n", s.Realm)
	fmt.Fprintf(&b, "\tdns_lookup_kdc = false\n")
	fmt.Fprintf(&b, "\tdns_lookup_realm = false\n")
	fmt.Fprintf(&b, "\tdns_canonicalize_hostname = false\n")
	fmt.Fprintf(&b, "\trdns = false\n")
	fmt.Fprintf(&b, "\tudp_preference_limit = 1\n")
	fmt.Fprintf(&b, "\tforwardable = true\n")
	fmt.Fprintf(&b, "\tticket_lifetime = %ds\n", s.TicketLifetime)
	fmt.Fprintf(&b, "\trenew_lifetime = %ds\n", s.RenewLifetime)
	fmt.Fprintf(&b, "\tdefault_tkt_enctypes = %s\n", Enctypes)
	fmt.Fprintf(&b, "\tdefault_tgs_enctypes = %s\n", Enctypes)
	fmt.Fprintf(&b, "\tpermitted_enctypes = %s\n\n", Enctypes)
	fmt.Fprintf(&b, "[realms]\n\t%s = {\n", s.Realm)
	fmt.Fprintf(&b, "\t\tkdc = 127.0.0.1:%d\n", s.Port)
	fmt.Fprintf(&b, "\t}\n\n")
	fmt.Fprintf(&b, "[domain_realm]\n")
	fmt.Fprintf(&b, "\tlocalhost = %s\n", s.Realm)
	fmt.Fprintf(&b, "\t.localhost = %s\n", s.Realm)
	return b.String()
}

// writeFiles writes both profiles, the ACL and the state file.
func writeFiles(dir string, s state) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("kdc: encode state: %w", err)
	}
	files := []struct {
		name, text string
	}{
		{kdcConfFile, kdcConf(dir, s)},
		{krb5ConfFile, krb5Conf(s)},
		{aclFile, "# kadmind is not run by authbench; kadmin.local needs no ACL.\n"},
		{stateFile, string(data) + "\n"},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o644); err != nil {
			return fmt.Errorf("kdc: write %s: %w: check that %s is writable", f.name, err, dir)
		}
	}
	return nil
}

// readState returns the stored state, or nil when dir has none.
func readState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kdc: read state: %w", err)
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("kdc: %s is corrupt (%v): delete it and run Start again", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}
