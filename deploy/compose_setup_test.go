package deploy

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// The set-up services and config files must agree with the settings the
// driver gets: the same users, principals, labels, hosts and ports. These
// tests read them side by side, as a reviewer would.

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// volumeAt returns the named volume mounted at the directory holding p.
func volumeAt(s types.ServiceConfig, p string) string {
	m, ok := mountFor(s.Volumes, p)
	if !ok || m.Type != types.VolumeTypeVolume {
		return ""
	}
	return m.Source
}

func mountsVolume(s types.ServiceConfig, volume string) bool {
	for _, m := range s.Volumes {
		if m.Type == types.VolumeTypeVolume && m.Source == volume {
			return true
		}
	}
	return false
}

func TestComposeKerberosMatchesTheLoadBalancer(t *testing.T) {
	f := mustLoadCompose(t)
	env, kdc := envOf(f.Services["authbench"]), f.Services["kdc"]
	host := env["AUTHBENCH_HOST"]
	if _, ok := f.Services[host]; !ok || host != "lb" {
		t.Errorf("AUTHBENCH_HOST=%q: want the lb service, the host clients dial and name in the SPN", host)
	}
	spn := env["PGKRBSRVNAME"] + "/" + host
	if env["PGKRBSRVNAME"] != "customspn" || !strings.Contains(" "+envOf(kdc)["SERVICE_PRINCIPALS"]+" ", " "+spn+" ") {
		t.Errorf("the KDC's SERVICE_PRINCIPALS %q must hold %s", envOf(kdc)["SERVICE_PRINCIPALS"], spn)
	}
	if !strings.Contains(" "+envOf(kdc)["USER_PRINCIPALS"]+" ", " "+env["AUTHBENCH_GSS_USER"]+" ") {
		t.Errorf("the KDC's USER_PRINCIPALS %q lack the driver's GSS user %q", envOf(kdc)["USER_PRINCIPALS"], env["AUTHBENCH_GSS_USER"])
	}
	for _, node := range []string{"roach-0", "roach-1", "roach-2"} {
		kt := envOf(f.Services[node])["KRB5_KTNAME"]
		v := volumeAt(f.Services[node], kt)
		if path.Base(kt) != "server.keytab" || v == "" || !mountsVolume(kdc, v) {
			t.Errorf("%s: KRB5_KTNAME=%s must be server.keytab in a volume the kdc writes (volume %q)", node, kt, v)
		}
	}
	if v := volumeAt(f.Services["authbench"], env["AUTHBENCH_KEYTAB"]); v == "" || !mountsVolume(kdc, v) ||
		path.Base(env["AUTHBENCH_KEYTAB"]) != env["AUTHBENCH_GSS_USER"]+".keytab" {
		t.Errorf("AUTHBENCH_KEYTAB=%s must be <gss user>.keytab in a volume the kdc writes", env["AUTHBENCH_KEYTAB"])
	}
}

func TestComposeUsersExistEverywhereTheyAreNamed(t *testing.T) {
	f := mustLoadCompose(t)
	env := envOf(f.Services["authbench"])
	certUsers := " " + envOf(f.Services["certs"])["CLIENT_USERS"] + " "
	for _, u := range []string{"root", env["AUTHBENCH_CERT_USER"], "vault_admin", envOf(f.Services["spire-register"])["AGENT_CN"]} {
		if !strings.Contains(certUsers, " "+u+" ") {
			t.Errorf("certs' CLIENT_USERS %q lack %q", certUsers, u)
		}
	}
	reg := envOf(f.Services["spire-register"])
	if reg["SQL_USER"] != env["AUTHBENCH_SPIFFE_USER"] {
		t.Errorf("SPIRE registers -dns %q first, the driver expects SQL user %q", reg["SQL_USER"], env["AUTHBENCH_SPIFFE_USER"])
	}
	if k, v, _ := strings.Cut(reg["WORKLOAD_LABEL"], ":"); f.Services["authbench"].Labels[k] != v {
		t.Errorf("SPIRE selects docker label %s, the authbench service has labels %v", reg["WORKLOAD_LABEL"], f.Services["authbench"].Labels)
	}
	if agent := readFile(t, "compose/spire/agent.conf"); !strings.Contains(agent, "client."+reg["AGENT_CN"]+".crt") {
		t.Errorf("spire/agent.conf does not attest with client.%s.crt", reg["AGENT_CN"])
	}
	initSQL := readFile(t, "compose/init/init.sh")
	methods := map[string]string{
		env["AUTHBENCH_CERT_USER"]:                "cert",
		env["AUTHBENCH_SPIFFE_USER"]:              "cert",
		env["AUTHBENCH_PASSWORD_USER"]:            "scram-sha-256",
		env["AUTHBENCH_GSS_USER"]:                 "gss include_realm=0",
		envOf(f.Services["vault"])["STATIC_USER"]: "scram-sha-256",
		"vault_admin":                             "cert",
		"root":                                    "cert-password",
	}
	for user, method := range methods {
		if user != "root" && !strings.Contains(initSQL, "CREATE USER IF NOT EXISTS "+user) {
			t.Errorf("init.sh does not create %s", user)
		}
		hba := regexp.MustCompile(`(?m)^host\s+all\s+` + regexp.QuoteMeta(user) + `\s+all\s+` + regexp.QuoteMeta(method) + `\s*$`)
		if !hba.MatchString(initSQL) {
			t.Errorf("init.sh has no HBA rule `host all %s all %s`", user, method)
		}
	}
	for _, want := range []string{"server.auth_log.sql_connections.enabled = true", "CREATE DATABASE IF NOT EXISTS authbench"} {
		if !strings.Contains(initSQL, want) {
			t.Errorf("init.sh lacks %q", want)
		}
	}
}

func TestComposeVaultTalksCockroachDB(t *testing.T) {
	f := mustLoadCompose(t)
	v := f.Services["vault"]
	if u := envOf(v)["DB_URL"]; !strings.Contains(u, "@lb:26257/") || !strings.Contains(u, "client.vault_admin.crt") {
		t.Errorf("vault's DB_URL %q: want the cluster through lb as vault_admin with its client certificate", u)
	}
	setup := readFile(t, "compose/vault/setup.sh")
	for _, want := range []string{
		`DROP ROLE IF EXISTS "{{name}}"`,
		`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
		"revocation_statements=", "plugin_name=postgresql-database-plugin",
	} {
		if !strings.Contains(setup, want) {
			t.Errorf("vault/setup.sh lacks %s", want)
		}
	}
	env := envOf(f.Services["authbench"])
	for _, p := range []string{env["AUTHBENCH_VAULT_ROLE_ID_FILE"], env["AUTHBENCH_VAULT_SECRET_ID_FILE"]} {
		if vol := volumeAt(f.Services["authbench"], p); vol == "" || !mountsVolume(v, vol) {
			t.Errorf("%s is not in a volume the vault service writes", p)
		}
	}
}

var reHAServer = regexp.MustCompile(`(?m)^\s*server\s+\S+\s+([\w.-]+):(\d+)`)

func TestHAProxyChecksTheNodes(t *testing.T) {
	f := mustLoadCompose(t)
	cfg := readFile(t, "compose/haproxy/haproxy.cfg")
	servers := reHAServer.FindAllStringSubmatch(cfg, -1)
	if len(servers) != 3 {
		t.Fatalf("haproxy.cfg has %d servers, want the 3 nodes", len(servers))
	}
	for _, s := range servers {
		if _, ok := f.Services[s[1]]; !ok || s[2] != envOf(f.Services["authbench"])["AUTHBENCH_PORT"] {
			t.Errorf("haproxy server %s:%s is not a compose service on the SQL port", s[1], s[2])
		}
	}
	for _, want := range []string{"option httpchk GET /health?ready=1", "check port 8080", "mode tcp", "bind :26257", "stats enable", "bind :8081"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	published := map[uint32]bool{}
	for _, p := range f.Services["lb"].Ports {
		published[p.Target] = true
	}
	if !published[26257] || !published[8081] {
		t.Errorf("lb publishes %v, want 26257 (SQL) and 8081 (stats)", f.Services["lb"].Ports)
	}
}

type promConfig struct {
	Global struct {
		ScrapeInterval string `yaml:"scrape_interval"`
	} `yaml:"global"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func loadProm(t *testing.T, name string) promConfig {
	t.Helper()
	var c promConfig
	if err := yaml.Unmarshal([]byte(readFile(t, name)), &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestComposePrometheusAndGrafanaFollowDashboards(t *testing.T) {
	f := mustLoadCompose(t)
	ours, theirs := loadProm(t, "compose/prometheus/prometheus.yml"), loadProm(t, "../dashboards/prometheus.yml")
	if ours.Global.ScrapeInterval != theirs.Global.ScrapeInterval {
		t.Errorf("scrape_interval %s, dashboards/prometheus.yml has %s", ours.Global.ScrapeInterval, theirs.Global.ScrapeInterval)
	}
	targets := map[string][]string{}
	for _, sc := range ours.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], s.Targets...)
		}
	}
	for _, sc := range theirs.ScrapeConfigs {
		if _, ok := targets[sc.JobName]; !ok {
			t.Errorf("job %s of dashboards/prometheus.yml is not scraped in compose", sc.JobName)
		}
	}
	cmd := strings.Join(f.Services["authbench"].Command, " ")
	if want := "authbench:2112"; len(targets["authbench"]) != 1 || targets["authbench"][0] != want || !strings.Contains(cmd, "0.0.0.0:2112") {
		t.Errorf("compose scrapes %v and authbench runs %q: want target %s and --metrics-addr 0.0.0.0:2112", targets["authbench"], cmd, want)
	}
	provisioning, _ := filepath.Glob("../dashboards/provisioning/*/*.y*ml")
	if len(provisioning) == 0 {
		t.Error("no provisioning files under dashboards/provisioning")
	}
	for _, p := range provisioning {
		for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(readFile(t, p), -1) {
			if envOf(f.Services["grafana"])[m[1]] == "" {
				t.Errorf("%s uses ${%s}, which the grafana service does not set", p, m[1])
			}
		}
	}
}
