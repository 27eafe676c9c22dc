# What the authbench vault mode may do: read its dynamic and static database
# credentials, renew and revoke its leases, and look after its own token.
path "database/creds/authbench" {
  capabilities = ["read"]
}

path "database/static-creds/authbench-static" {
  capabilities = ["read"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

path "sys/leases/revoke" {
  capabilities = ["update"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}
