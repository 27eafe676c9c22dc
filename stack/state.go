package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// stateFile is the state file's name inside the state directory.
const stateFile = "state.json"

// State is a stack's state, persisted as dir/state.json: its own fields
// say where clients connect and as whom (see the package doc), and each
// component keeps the rest in its section. It holds no secrets: passwords
// and keys live in files it points to.
type State struct {
	// Dir is the absolute state directory.
	Dir string `json:"dir"`
	// LBHost is the load balancer's host name, always "localhost".
	LBHost string `json:"lb_host"`
	// LBPort is the HAProxy frontend port clients connect to.
	LBPort int `json:"lb_port"`
	// LBIPv6 says HAProxy also listens on [::1]:LBPort.
	LBIPv6 bool `json:"lb_ipv6"`
	// PGPort is PostgreSQL's port on 127.0.0.1.
	PGPort int `json:"pg_port"`
	// Database is the benchmark database, "authbench".
	Database string `json:"database"`
	// CAFile is the CA certificate (or bundle) clients verify the server
	// with: StackCAFile, or with a ServerTLS its CAs too.
	CAFile string `json:"ca_file"`
	// CertsDir holds the certificates and client.<user>.crt/.key pairs.
	CertsDir string `json:"certs_dir"`
	// SecretsDir holds password.<user> files (0600).
	SecretsDir string `json:"secrets_dir"`
	// AdminUser is the superuser, "authbench_admin", authenticated by cert.
	AdminUser string `json:"admin_user"`
	// Users are the bench roles.
	Users []User `json:"users"`
	// PasswordFile is the password file of the first password user.
	PasswordFile string `json:"password_file,omitempty"`
	// ExtraHBA are the caller's extra pg_hba lines.
	ExtraHBA []string `json:"extra_hba,omitempty"`
	// ExtraPGConf are the caller's extra postgresql.conf lines.
	ExtraPGConf []string `json:"extra_pg_conf,omitempty"`
	// ExtraClientCAs are PEM files PostgreSQL trusts client certificates
	// of, besides StackCAFile.
	ExtraClientCAs []string `json:"extra_client_cas,omitempty"`
	// ClientCAs are the client CAs Config.ClientCAs added, kept by every
	// later Up.
	ClientCAs []string `json:"client_cas,omitempty"`
	// Exe is the authbench binary that runs the built-in servers.
	Exe string `json:"exe,omitempty"`
	// MaxConnections is the client connections the stack holds (`stack up
	// --max-connections`; 0: the database's default): the database's
	// limit, which the load balancer's follows.
	MaxConnections int `json:"max_connections,omitempty"`
	// ServerTLS, when set, is the identity PostgreSQL presents instead of
	// the PKI's server certificate (see SetServerTLS).
	ServerTLS *ServerTLS `json:"server_tls,omitempty"`

	// sections are the components' states by name: json.RawMessage as
	// read, or the pointer Section handed out. Each is a top-level key of
	// state.json, as in the files of earlier versions.
	sections map[string]any
	// top is state.json as read, for BaseSection; legacy are its
	// top-level fields this version's State does not have.
	top    json.RawMessage
	legacy map[string]json.RawMessage
}

// Load reads the state of the stack in dir. Without one, the error is
// ErrNoStack; a state file that does not parse is ErrCorruptState.
func Load(dir string) (*State, error) {
	path := filepath.Join(dir, stateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &StackError{Dir: dir, Err: ErrNoStack}
	}
	if err != nil {
		return nil, fmt.Errorf("read stack state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, &StackError{Dir: dir, Err: ErrCorruptState, Detail: path + ": " + err.Error(), Cause: err}
	}
	return &s, nil
}

// Save writes the state atomically (components call it after changing
// their section outside Up).
func (s *State) Save() error { return s.save() }

// save writes the state atomically.
func (s *State) save() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stack state: %w", err)
	}
	return WriteFileAtomic(filepath.Join(s.Dir, stateFile), append(data, '\n'), 0o644, nil)
}

// newState lays out a fresh state for dir with newly reserved ports.
func newState(dir string) (*State, error) {
	v6 := ipv6Loopback()
	p, err := reservePorts(v6)
	if err != nil {
		return nil, err
	}
	certs := filepath.Join(dir, "certs")
	return &State{
		Dir: dir, LBHost: LBHost, LBPort: p.lb, LBIPv6: v6, PGPort: p.pg,
		Database: Database, AdminUser: AdminUser,
		CAFile: filepath.Join(certs, "ca.crt"), CertsDir: certs, SecretsDir: filepath.Join(dir, "secrets"),
	}, nil
}

// merge adds cfg's users to the state (roles, once made, keep their
// pg_hba line) and takes cfg's extra lines and client CAs as they are,
// plus every client CA a Config.ClientCAs ever added.
func (s *State) merge(cfg Config) {
	users := cfg.Users
	if len(users) == 0 && len(s.Users) == 0 {
		users = DefaultUsers()
	}
	for _, u := range users {
		s.addUser(u)
	}
	s.ClientCAs = appendNew(s.ClientCAs, cfg.ClientCAs...)
	s.ServerTLS = nil // a component's Merge sets it again
	s.ExtraHBA, s.ExtraPGConf = cfg.ExtraHBA, cfg.ExtraPGConf
	s.ExtraClientCAs = appendNew(slices.Clone(cfg.ExtraClientCAs), s.ClientCAs...)
	if cfg.Exe != "" {
		s.Exe = cfg.Exe
	}
}

// addUser adds u or updates the method of the user with u's name, and
// keeps PasswordFile pointing at the first password user's file.
func (s *State) addUser(u User) {
	i := slices.IndexFunc(s.Users, func(x User) bool { return x.Name == u.Name })
	if i >= 0 {
		s.Users[i].Method = u.Method
	} else {
		s.Users = append(s.Users, u)
	}
	s.PasswordFile = ""
	if pw, ok := s.FirstUser(MethodPassword); ok {
		s.PasswordFile = s.UserPasswordFile(pw.Name)
	}
}

// FirstUser returns the first user with the given method.
func (s *State) FirstUser(method string) (User, bool) {
	for _, u := range s.Users {
		if u.Method == method {
			return u, true
		}
	}
	return User{}, false
}

// ClientCertFiles returns the client certificate and key paths for user.
func (s *State) ClientCertFiles(user string) (certPath, keyPath string) {
	base := filepath.Join(s.CertsDir, "client."+user)
	return base + ".crt", base + ".key"
}

// UserPasswordFile returns the file holding user's password.
func (s *State) UserPasswordFile(user string) string {
	return filepath.Join(s.SecretsDir, "password."+user)
}

// ServerCertFiles returns the PKI's server certificate and key paths
// (PostgreSQL presents PresentedServerCertFiles).
func (s *State) ServerCertFiles() (certPath, keyPath string) {
	return filepath.Join(s.CertsDir, "server.crt"), filepath.Join(s.CertsDir, "server.key")
}
