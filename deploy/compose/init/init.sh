#!/bin/bash
# One-shot cluster set-up for the compose topology, run in the official
# cockroach image once the nodes have started: cockroach init, the license
# (GSSAPI needs one), the benchmark database and roles, the host-based
# authentication rules and the authentication logs. Idempotent.
set -euo pipefail

CERTS=/client-certs
HOST=roach-0:26257
CLIENT_OWNER="${CLIENT_OWNER:-10001}"
PASSWORD_FILE=/passwords/bench_password
# The last HBA rule, for users not listed above it: Vault's dynamic users,
# whose names are only known when Vault creates them, log in with a
# password. "gss include_realm=0" reproduces the write-ups' set-up where
# every Kerberos principal is a SQL user (the vault mode then cannot log in).
HBA_DEFAULT="${HBA_DEFAULT:-scram-sha-256}"

sql() { cockroach sql --certs-dir="$CERTS" --host="$HOST" "$@"; }

for i in $(seq 1 60); do
  if out=$(cockroach init --certs-dir="$CERTS" --host="$HOST" 2>&1); then
    echo "init: cluster initialised"; break
  elif grep -q "already been initialized" <<<"$out"; then
    echo "init: cluster was already initialised"; break
  fi
  [[ $i == 60 ]] && { echo "init: cockroach init kept failing: $out" >&2; exit 1; }
  sleep 2
done
for i in $(seq 1 60); do
  sql -e "SELECT 1" >/dev/null 2>&1 && break
  [[ $i == 60 ]] && { echo "init: SQL on $HOST never became ready" >&2; exit 1; }
  sleep 2
done

if [[ -n "${COCKROACH_LICENSE:-}" ]]; then
  sql -e "SET CLUSTER SETTING cluster.organization = '${COCKROACH_ORGANIZATION//\'/\'\'}'" \
      -e "SET CLUSTER SETTING enterprise.license = '${COCKROACH_LICENSE//\'/\'\'}'"
  echo "init: license set"
else
  echo "init: no COCKROACH_LICENSE: GSSAPI logins need an enterprise (or free/trial) license" >&2
fi

if [[ ! -s "$PASSWORD_FILE" ]]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PASSWORD_FILE")
fi
chown "$CLIENT_OWNER" "$PASSWORD_FILE"
chmod 0400 "$PASSWORD_FILE"
password=$(cat "$PASSWORD_FILE") # hex: safe inside quotes

sql <<SQL
CREATE DATABASE IF NOT EXISTS authbench;
CREATE ROLE IF NOT EXISTS authbench_rw;
GRANT ALL ON DATABASE authbench TO authbench_rw;
USE authbench;
GRANT ALL ON SCHEMA public TO authbench_rw;
ALTER DEFAULT PRIVILEGES FOR ALL ROLES IN SCHEMA public GRANT ALL ON TABLES TO authbench_rw;

CREATE USER IF NOT EXISTS bench_cert;
CREATE USER IF NOT EXISTS bench_password;
ALTER USER bench_password WITH PASSWORD '$password';
CREATE USER IF NOT EXISTS bench_gss;
CREATE USER IF NOT EXISTS bench_spiffe;
-- Vault rotates this one's password (static role); it starts without one.
CREATE USER IF NOT EXISTS bench_vault_static;
GRANT authbench_rw TO bench_cert, bench_password, bench_gss, bench_spiffe, bench_vault_static;

-- Vault's own login (client certificate): creates and drops the dynamic
-- users and makes them members of authbench_rw.
CREATE USER IF NOT EXISTS vault_admin WITH CREATEROLE;
GRANT authbench_rw TO vault_admin WITH ADMIN OPTION;
GRANT ALL ON DATABASE authbench TO vault_admin;

-- First match wins. Every connection arrives over TLS through lb.
SET CLUSTER SETTING server.host_based_authentication.configuration = '
# TYPE DATABASE USER               ADDRESS METHOD
host   all      root               all     cert-password
host   all      bench_cert         all     cert
host   all      bench_spiffe       all     cert
host   all      vault_admin        all     cert
host   all      bench_password     all     scram-sha-256
host   all      bench_vault_static all     scram-sha-256
host   all      bench_gss          all     gss include_realm=0
host   all      all                all     $HBA_DEFAULT
';
SET CLUSTER SETTING server.auth_log.sql_connections.enabled = true;
SET CLUSTER SETTING server.auth_log.sql_sessions.enabled = true;
SHOW CLUSTER SETTING server.host_based_authentication.configuration;
SQL
echo "init: database authbench, users and HBA rules in place"
