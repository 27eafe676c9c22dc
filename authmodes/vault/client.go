package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"

	"github.com/authbench/authbench/fix"
)

// Client settings: a Vault call in BeforeConnect must not hang a
// connection for long, and a sealed or unreachable Vault should be
// reported within about a second.
const (
	clientTimeout = 10 * time.Second
	clientRetries = 2
)

// connect builds the API client, checks Vault's health and logs in. It
// returns the login's answer for AppRole (to renew its token), else nil.
func (c *conf) connect(ctx context.Context) (*api.Client, *api.Secret, error) {
	client, err := c.newClient()
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkHealth(ctx, client); err != nil {
		return nil, nil, err
	}
	auth, err := c.login(ctx, client)
	if err != nil {
		return nil, nil, err
	}
	return client, auth, nil
}

// newClient returns a client for --vault-addr with the library's VAULT_*
// environment settings (CA, TLS, namespace) and no token yet.
func (c *conf) newClient() (*api.Client, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, &fix.Error{Step: "vault", What: fix.Textf("Vault client settings from the environment (VAULT_CACERT, VAULT_SKIP_VERIFY, …): %s", oneLine(cfg.Error.Error())), Err: cfg.Error}
	}
	cfg.Address = c.addr
	cfg.Timeout = clientTimeout
	cfg.MaxRetries, cfg.MinRetryWait, cfg.MaxRetryWait = clientRetries, 100*time.Millisecond, 500*time.Millisecond
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, &fix.Error{Step: "vault", What: fix.Textf("invalid %v %q: %s", fix.Flag("vault-addr"), c.addr, oneLine(err.Error())), Err: err}
	}
	client.ClearToken() // api.NewClient takes $VAULT_TOKEN; login decides
	return client, nil
}

// checkHealth reads sys/health, which needs no token: unreachable and
// sealed are told apart from login problems.
func (c *conf) checkHealth(ctx context.Context, client *api.Client) error {
	h, err := client.Sys().HealthWithContext(ctx)
	if err != nil {
		return c.vaultError(opHealth, "sys/health", err)
	}
	if h.Sealed {
		return fmt.Errorf("Vault at %s is sealed: unseal it (`vault operator unseal`) and run again", c.addr)
	}
	return nil
}

// login sets the client's token: from --vault-token-file (or $VAULT_TOKEN),
// checked with auth/token/lookup-self, or from an AppRole login.
func (c *conf) login(ctx context.Context, client *api.Client) (*api.Secret, error) {
	if c.auth == authAppRole {
		return c.appRoleLogin(ctx, client)
	}
	token := os.Getenv("VAULT_TOKEN")
	if c.tokenFile != "" {
		var err error
		if token, err = readSecretFile(c.tokenFile, "vault-token-file"); err != nil {
			return nil, err
		}
	}
	client.SetToken(token)
	if _, err := client.Auth().Token().LookupSelfWithContext(ctx); err != nil {
		return nil, c.vaultError(opToken, "auth/token/lookup-self", err)
	}
	return nil, nil
}

// appRoleLogin logs in at auth/approle/login with the role_id and
// secret_id files (the library reads the secret_id file itself).
func (c *conf) appRoleLogin(ctx context.Context, client *api.Client) (*api.Secret, error) {
	roleID, err := readSecretFile(c.roleIDFile, "vault-role-id-file")
	if err != nil {
		return nil, err
	}
	if _, err := readSecretFile(c.secretIDFile, "vault-secret-id-file"); err != nil {
		return nil, err
	}
	a, err := approle.NewAppRoleAuth(roleID, &approle.SecretID{FromFile: c.secretIDFile})
	if err != nil {
		return nil, &fix.Error{Step: "vault-login", What: fix.Textf("AppRole login: %s", oneLine(err.Error())), Err: err}
	}
	sec, err := client.Auth().Login(ctx, a)
	if err != nil {
		return nil, c.vaultError(opAppRole, "auth/approle/login", err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return nil, fmt.Errorf("Vault at %s answered the AppRole login without a token: is AppRole enabled at auth/approle?", c.addr)
	}
	return sec, nil
}

// readSecretFile returns a file's trimmed content; errors name the file
// and the flag, never the content.
func readSecretFile(path string, flag fix.Flag) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err
		}
		return "", &fix.Error{Step: "vault-login", What: fix.Textf("cannot read %v %s: %v", flag, path, cause), Err: err}
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", &fix.Error{Step: "vault-login", What: fix.Textf("%v %s is empty", flag, path)}
	}
	return v, nil
}
