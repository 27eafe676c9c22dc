package vaultsrv_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/vault"
	"github.com/authbench/authbench/stack/vault/vaultsrv"
	"github.com/authbench/authbench/stack/vault/vaultsrv/vaultsrvtest"
)

// The servers, observations and answer shapes of differential_test.go.

// target is one server and what the steps remember about it.
type target struct {
	name, addr, root, roleID, secretID string
	seal                               func(t *testing.T, sealed bool)

	appRoleToken, tokenLease, rootLease, prefixLease string
}

// client returns a client for the target with token (none when "").
func (tg *target) client(t *testing.T, token string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address, cfg.MaxRetries, cfg.Timeout = tg.addr, 0, 30*time.Second
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// startStandIn runs the stand-in in this process with the stack's own
// configuration (vaultsrv.Config from vault.ServerConfig) on a
// free port.
func startStandIn(t *testing.T, st *stack.State) *target {
	cfg, db, err := vault.ServerConfig(st)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := vaultsrv.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close) // after the server's stop, which Serve registers later
	s := vaultsrvtest.Serve(t, srv)
	return &target{name: "stand-in", addr: s.URL, seal: func(_ *testing.T, sealed bool) { srv.SetSealed(sealed) }}
}

// obs is what a step observed: the status, the error messages and the
// shape of the answer (field → a value or its form).
type obs struct {
	status int
	errors string
	shape  map[string]string
}

func (o obs) diff(p obs) string {
	var b strings.Builder
	if o.status != p.status {
		fmt.Fprintf(&b, "  status %d, want %d\n", p.status, o.status)
	}
	if o.errors != p.errors {
		fmt.Fprintf(&b, "  errors %q, want %q\n", p.errors, o.errors)
	}
	for _, k := range slices.Sorted(mapsKeys(o.shape, p.shape)) {
		if o.shape[k] != p.shape[k] {
			fmt.Fprintf(&b, "  %s = %q, want %q\n", k, p.shape[k], o.shape[k])
		}
	}
	return b.String()
}

func mapsKeys(ms ...map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// observe turns a call's answer into an obs; shape picks the fields.
func observe(sec *api.Secret, err error, shape func(*api.Secret) map[string]string) obs {
	var re *api.ResponseError
	switch {
	case errors.As(err, &re):
		return obs{status: re.StatusCode, errors: strings.Join(re.Errors, " | ")}
	case err != nil:
		return obs{status: -1, errors: err.Error()}
	case sec == nil:
		return obs{status: http.StatusNoContent}
	}
	o := obs{status: http.StatusOK, shape: map[string]string{}}
	if shape != nil {
		o.shape = shape(sec)
	}
	return o
}

// login writes auth/approle/login; shape["token"] carries the token for
// the next steps.
func login(t *testing.T, tg *target, roleID, secretID string) obs {
	body := map[string]any{"role_id": roleID}
	if secretID != "" {
		body["secret_id"] = secretID
	}
	sec, err := tg.client(t, "").Logical().Write("auth/approle/login", body)
	return observe(sec, err, func(s *api.Secret) map[string]string {
		m := authShape(s)
		m["token"] = s.Auth.ClientToken
		return m
	})
}

// rawGet sends GET /v1/<path> with the root token through the client's
// RawRequest (Logical().Read turns every 404 into a nil secret).
func rawGet(t *testing.T, tg *target, path string) obs {
	c := tg.client(t, tg.root)
	resp, err := c.RawRequest(c.NewRequest(http.MethodGet, "/v1/"+path))
	if resp != nil {
		defer resp.Body.Close()
	}
	return observe(nil, err, nil)
}

// authShape is the "auth" block of a login or token renewal.
func authShape(s *api.Secret) map[string]string {
	a := s.Auth
	if a == nil {
		return map[string]string{"auth": "none"}
	}
	return map[string]string{
		"policies": fmt.Sprint(a.Policies), "token_policies": fmt.Sprint(a.TokenPolicies),
		"lease_duration": strconv.Itoa(a.LeaseDuration), "renewable": fmt.Sprint(a.Renewable),
		"metadata": fmt.Sprint(a.Metadata), "orphan": fmt.Sprint(a.Orphan), "token_type": fmt.Sprint(s.Data["token_type"]),
		"has accessor": fmt.Sprint(a.Accessor != ""), "has token": fmt.Sprint(a.ClientToken != ""),
		"warnings": warningForms(s.Warnings),
	}
}

// creds reads <mount>/creds/<role> with token; it returns the lease id.
func creds(t *testing.T, tg *target, token, role string) (obs, string) {
	sec, err := tg.client(t, token).Logical().Read(vault.Mount + "/creds/" + role)
	o := observe(sec, err, func(s *api.Secret) map[string]string {
		m := leaseShape(diffTTL)(s)
		m["data"] = dataKeys(s)
		m["username"] = usernameForm(fmt.Sprint(s.Data["username"]))
		return m
	})
	if sec != nil {
		return o, sec.LeaseID
	}
	return o, ""
}

// leaseShape is a lease's form, its duration compared as at most want.
func leaseShape(want time.Duration) func(*api.Secret) map[string]string {
	return func(s *api.Secret) map[string]string {
		return map[string]string{
			"lease_id": leaseForm(s.LeaseID), "renewable": fmt.Sprint(s.Renewable),
			"lease_duration": ttlRange(time.Duration(s.LeaseDuration)*time.Second, want),
			"warnings":       warningForms(s.Warnings),
		}
	}
}

// leaseForm is a lease id without its random part.
func leaseForm(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[:i+1] + "…"
	}
	return id
}

// usernameForm keeps v-<display>-<role> of Vault's username template.
func usernameForm(u string) string {
	parts := strings.SplitN(u, "-", 4)
	if len(parts) < 4 {
		return u
	}
	return strings.Join(parts[:3], "-") + "-…"
}

// ttlRange says whether a TTL is want or a little less (time passed),
// else its value.
func ttlRange(got, want time.Duration) string {
	if got <= want && got >= want-5*time.Second {
		return "≈ " + want.String()
	}
	return got.String()
}

// warningForms keeps each warning up to its first quoted value.
func warningForms(ws []string) string {
	var out []string
	for _, w := range ws {
		if i := strings.IndexByte(w, '"'); i >= 0 {
			w = w[:i]
		}
		out = append(out, w)
	}
	return strings.Join(out, " | ")
}

func dataKeys(s *api.Secret) string {
	var keys []string
	for k := range s.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

func secondsOf(v any) time.Duration {
	f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
	return time.Duration(f * float64(time.Second))
}

// waitLeaseGone waits until sys/leases/lookup no longer finds the lease
// (OpenBao revokes asynchronously) and observes that last answer.
func waitLeaseGone(t *testing.T, tg *target, id string) obs {
	deadline := time.Now().Add(30 * time.Second)
	for {
		sec, err := tg.client(t, tg.root).Sys().Lookup(id)
		if err != nil || time.Now().After(deadline) {
			return observe(sec, err, func(*api.Secret) map[string]string { return map[string]string{"still there after 30s": "true"} })
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSealed waits until sys/health reports sealed as want.
func waitSealed(t *testing.T, tg *target, want bool) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := tg.client(t, "").Sys().Health()
		if err == nil && h.Sealed == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not report sealed=%v: %+v %v", tg.name, want, h, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readFileTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
