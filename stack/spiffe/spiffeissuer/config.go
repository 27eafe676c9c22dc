package spiffeissuer

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// DefaultTrustDomain is the trust domain used when Config.TrustDomain is empty.
const DefaultTrustDomain = "authbench.test"

// DefaultTTL is the X509-SVID lifetime used when Config.TTL is zero.
const DefaultTTL = time.Minute

// MinTTL is the shortest X509-SVID lifetime New accepts.
const MinTTL = time.Second

// AnyUID is the Entry.UID that matches callers of every unix user.
const AnyUID = -1

// Entry is a registration entry: the identity issued to the callers it
// selects, like `spire-server entry create -spiffeID … -dns … -selector
// unix:uid:…`.
type Entry struct {
	// SPIFFEID is the identity, spiffe://<trust domain>/<path>.
	SPIFFEID string
	// DNSNames become DNS SANs; the first one is also the Subject CN, which
	// CockroachDB and PostgreSQL take as the SQL user.
	DNSNames []string
	// UID is the unix user ID selector; AnyUID (-1) matches every caller.
	UID int
}

// Config configures an Issuer.
type Config struct {
	// Dir holds the CA (ca.crt, ca.key with mode 0600) and bundle.pem, the
	// CA certificate for the database's ssl_ca_file. The CA is kept across
	// restarts so the bundle stays the same.
	Dir string
	// SocketPath is the unix socket the Workload API listens on.
	SocketPath string
	// TrustDomain is the SPIFFE trust domain; DefaultTrustDomain if empty.
	TrustDomain string
	// TTL is the X509-SVID lifetime, DefaultTTL if zero; new SVIDs are
	// minted and pushed at TTL/2.
	TTL time.Duration
	// Entries are the registration entries, in the order their SVIDs are
	// returned (the first matching one is a client's default SVID).
	Entries []Entry
}

// withDefaults returns a deep copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.TrustDomain == "" {
		c.TrustDomain = DefaultTrustDomain
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	c.Entries = slices.Clone(c.Entries)
	for k := range c.Entries {
		c.Entries[k].DNSNames = slices.Clone(c.Entries[k].DNSNames)
	}
	return c
}

// validate checks c (with defaults applied) and returns its trust domain and
// the parsed SPIFFE ID of every entry.
func (c Config) validate() (spiffeid.TrustDomain, []spiffeid.ID, error) {
	if c.Dir == "" {
		return spiffeid.TrustDomain{}, nil, errors.New("config: Dir is required")
	}
	if c.TTL < MinTTL {
		return spiffeid.TrustDomain{}, nil, fmt.Errorf("config: ttl %s is below %s", c.TTL, MinTTL)
	}
	td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
	if err != nil {
		return spiffeid.TrustDomain{}, nil, fmt.Errorf("config: trust domain %q: %w", c.TrustDomain, err)
	}
	ids, err := parseEntries(td, c.Entries)
	return td, ids, err
}

// parseEntries parses and checks every entry's SPIFFE ID and UID.
func parseEntries(td spiffeid.TrustDomain, entries []Entry) ([]spiffeid.ID, error) {
	ids := make([]spiffeid.ID, 0, len(entries))
	for k, e := range entries {
		id, err := parseEntry(td, e)
		if err != nil {
			return nil, fmt.Errorf("config: entry %d: %w", k, err)
		}
		if slices.Contains(ids, id) {
			return nil, fmt.Errorf("config: entry %d: duplicate SPIFFE ID %s", k, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// parseEntry checks one entry and returns its SPIFFE ID.
func parseEntry(td spiffeid.TrustDomain, e Entry) (spiffeid.ID, error) {
	id, err := spiffeid.FromString(e.SPIFFEID)
	switch {
	case err != nil:
		return spiffeid.ID{}, fmt.Errorf("SPIFFE ID %q: %w", e.SPIFFEID, err)
	case !id.MemberOf(td):
		return spiffeid.ID{}, fmt.Errorf("SPIFFE ID %s is not in trust domain %s", id, td)
	case id.Path() == "":
		return spiffeid.ID{}, fmt.Errorf("SPIFFE ID %s has no path", id)
	case e.UID < AnyUID:
		return spiffeid.ID{}, fmt.Errorf("uid %d is invalid", e.UID)
	}
	return id, nil
}
