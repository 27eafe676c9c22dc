#!/bin/sh
# Vault for the compose topology, in dev mode (in memory: every start sets it
# up again). The database secrets engine reaches the cluster through lb as
# vault_admin with a client certificate, so no database password is stored
# anywhere; the root token stays inside this container (~/.vault-token).
# CockroachDB needs explicit revocation and renewal statements: the
# PostgreSQL plugin's defaults query PostgreSQL's catalogs.
# The driver logs in with AppRole: role_id and secret_id land in
# /vault/approle (mounted read-only into the authbench services).
set -eu
: "${DB_URL:?connection URL of the cluster for vault_admin}"
: "${CREDS_TTL:=5m}"
: "${CREDS_MAX_TTL:=1h}"
: "${STATIC_USER:=bench_vault_static}"
: "${STATIC_ROTATION:=1h}"
: "${CLIENT_OWNER:=10001}"
OUT=/vault/approle
rm -f "$OUT/role_id" "$OUT/secret_id"

vault server -dev -dev-listen-address=0.0.0.0:8200 &
server=$!
trap 'kill "$server"' TERM INT
# Ready once unsealed and the dev root token is in ~/.vault-token.
until vault token lookup >/dev/null 2>&1; do sleep 1; done

vault secrets enable database
i=0
until vault write database/config/cockroachdb \
  plugin_name=postgresql-database-plugin \
  connection_url="$DB_URL" \
  allowed_roles="authbench,authbench-static" \
  verify_connection=true; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then echo "vault: cannot reach the cluster as vault_admin" >&2; exit 1; fi
  sleep 2
done

cat >/tmp/create.sql <<'SQL'
CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';
GRANT authbench_rw TO "{{name}}";
SQL
cat >/tmp/revoke.sql <<'SQL'
DROP ROLE IF EXISTS "{{name}}";
SQL
cat >/tmp/renew.sql <<'SQL'
ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';
SQL
cat >/tmp/rotate.sql <<'SQL'
ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';
SQL

vault write database/roles/authbench \
  db_name=cockroachdb \
  creation_statements=@/tmp/create.sql \
  revocation_statements=@/tmp/revoke.sql \
  renew_statements=@/tmp/renew.sql \
  default_ttl="$CREDS_TTL" \
  max_ttl="$CREDS_MAX_TTL"
vault write database/static-roles/authbench-static \
  db_name=cockroachdb \
  username="$STATIC_USER" \
  rotation_statements=@/tmp/rotate.sql \
  rotation_period="$STATIC_ROTATION"

vault policy write authbench /vault/setup/authbench-policy.hcl
vault auth enable approle
vault write auth/approle/role/authbench \
  token_policies=authbench token_ttl=1h token_max_ttl=24h secret_id_ttl=0

umask 077
vault read -field=role_id auth/approle/role/authbench/role-id >"$OUT/role_id.tmp"
vault write -f -field=secret_id auth/approle/role/authbench/secret-id >"$OUT/secret_id.tmp"
for f in role_id secret_id; do
  chown "$CLIENT_OWNER" "$OUT/$f.tmp"
  mv "$OUT/$f.tmp" "$OUT/$f"
done
echo "vault: database engine, roles authbench (dynamic) and authbench-static, AppRole authbench ready"
wait "$server"
