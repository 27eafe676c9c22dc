package spire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// cliTimeout bounds one server CLI call.
const cliTimeout = 30 * time.Second

// CLIError is a failed `spire-server` CLI call: the command (never a
// secret: tokens are read from output, not passed) and what it printed.
type CLIError struct {
	// Args are the CLI's arguments.
	Args []string
	// Output is what it printed, on one line.
	Output string
	// Err is how it ended.
	Err error
}

func (e *CLIError) Error() string {
	return fmt.Sprintf("spire-server %v: %s", e.Args, e.Output)
}

func (e *CLIError) Unwrap() error { return e.Err }

// CLI runs `spire-server <command…> -socketPath <admin socket> <args…>`
// and returns its stdout. The first argument that starts with "-" is where
// -socketPath goes (after the subcommand).
func (c Config) CLI(ctx context.Context, args ...string) ([]byte, error) {
	i := 0
	for i < len(args) && (len(args[i]) == 0 || args[i][0] != '-') {
		i++
	}
	full := append(append(append([]string{}, args[:i]...), "-socketPath", c.ServerSocket()), args[i:]...)
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bins.Server, full...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := oneLine(errOut.String() + " " + out.String())
		return nil, &CLIError{Args: full, Output: msg, Err: err}
	}
	return out.Bytes(), nil
}

// Bundle returns the server's X.509 trust bundle (PEM): every CA it
// currently signs with or is about to.
func (c Config) Bundle(ctx context.Context) ([]byte, error) {
	return c.CLI(ctx, "bundle", "show", "-format", "pem")
}

// JoinToken makes a join token for an agent with the SPIFFE ID AgentID,
// valid for ten minutes and usable once.
func (c Config) JoinToken(ctx context.Context) (string, error) {
	out, err := c.CLI(ctx, "token", "generate", "-spiffeID", c.AgentID(), "-ttl", "600", "-output", "json")
	if err != nil {
		return "", err
	}
	var tok struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(out, &tok); err != nil {
		return "", fmt.Errorf("spire-server token generate: unexpected output: %w", err)
	}
	if tok.Value == "" {
		return "", errors.New("spire-server token generate printed no token")
	}
	return tok.Value, nil
}

// Entry is a workload registration entry under the agent (AgentID).
type Entry struct {
	// ID is the entry ID, chosen by the caller so that it can be updated.
	ID string
	// SPIFFEID is the workload's SPIFFE ID.
	SPIFFEID string
	// DNSNames go into the SVID; SPIRE makes the first its CN.
	DNSNames []string
	// Selectors select the workload, e.g. "unix:uid:1000".
	Selectors []string
	// TTL is the X509-SVID lifetime (whole seconds; zero: the server's default).
	TTL time.Duration
}

// args renders e as the flags of `entry create` and `entry update`.
func (e Entry) args(parent string) []string {
	a := []string{"-entryID", e.ID, "-parentID", parent, "-spiffeID", e.SPIFFEID}
	for _, d := range e.DNSNames {
		a = append(a, "-dns", d)
	}
	for _, s := range e.Selectors {
		a = append(a, "-selector", s)
	}
	if e.TTL > 0 {
		a = append(a, "-x509SVIDTTL", strconv.Itoa(int(e.TTL/time.Second)))
	}
	return a
}

// batchResult is the JSON of `entry create|update|delete -output json`.
type batchResult struct {
	Results []struct {
		Status struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"results"`
}

// grpcAlreadyExists and grpcNotFound are gRPC status codes.
const (
	grpcNotFound      = 5
	grpcAlreadyExists = 6
)

// SetEntry creates e, or updates it when an entry with its ID exists. An
// update always gives the entry a new revision, so the agent issues a new
// SVID for it at its next sync, even when nothing else changed.
func (c Config) SetEntry(ctx context.Context, e Entry) error {
	code, msg, err := c.batch(ctx, append([]string{"entry", "create"}, e.args(c.AgentID())...))
	if err != nil {
		return err
	}
	if code == grpcAlreadyExists {
		return c.UpdateEntry(ctx, e)
	}
	if code != 0 {
		return fmt.Errorf("spire-server entry create %s: %s", e.ID, msg)
	}
	return nil
}

// UpdateEntry rewrites the entry e.ID with e.
func (c Config) UpdateEntry(ctx context.Context, e Entry) error {
	code, msg, err := c.batch(ctx, append([]string{"entry", "update"}, e.args(c.AgentID())...))
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("spire-server entry update %s: %s", e.ID, msg)
	}
	return nil
}

// DeleteEntry deletes the entry id; one that is gone already is fine.
func (c Config) DeleteEntry(ctx context.Context, id string) error {
	code, msg, err := c.batch(ctx, []string{"entry", "delete", "-entryID", id})
	if err != nil {
		return err
	}
	if code != 0 && code != grpcNotFound {
		return fmt.Errorf("spire-server entry delete %s: %s", id, msg)
	}
	return nil
}

// batch runs an entry command with -output json and returns the status of
// its one result.
func (c Config) batch(ctx context.Context, args []string) (int, string, error) {
	out, err := c.CLI(ctx, append(args, "-output", "json")...)
	if err != nil {
		return 0, "", err
	}
	var r batchResult
	if err := json.Unmarshal(out, &r); err != nil || len(r.Results) != 1 {
		return 0, "", fmt.Errorf("spire-server %v: unexpected output %q: %w", args[:2], oneLine(string(out)), err)
	}
	return r.Results[0].Status.Code, r.Results[0].Status.Message, nil
}

// Mint has the server sign an X509-SVID for spiffeID with dnsNames, valid
// for ttl, without a registration entry (`spire-server x509 mint`), and
// writes svid.pem, key.pem (0600) and bundle.pem into dir.
func (c Config) Mint(ctx context.Context, spiffeID string, dnsNames []string, ttl time.Duration, dir string) error {
	args := []string{"x509", "mint", "-spiffeID", spiffeID, "-ttl", ttl.String(), "-write", dir}
	for _, d := range dnsNames {
		args = append(args, "-dns", d)
	}
	_, err := c.CLI(ctx, args...)
	return err
}
