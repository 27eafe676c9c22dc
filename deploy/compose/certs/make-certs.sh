#!/bin/bash
# One-shot certificate set-up for the compose topology, run in the official
# cockroach image. Idempotent: existing certificates are kept.
#   /ca-key        ca.key (also read by the SPIRE server, its upstream CA)
#   /certs         ca.crt, node.crt, node.key for the nodes (and ca.crt for lb)
#   /client-certs  ca.crt and client.<user>.crt/.key, owned by CLIENT_OWNER
set -euo pipefail

: "${NODE_NAMES:?names the node certificate must carry}"
: "${CLIENT_USERS:?users to create client certificates for}"
CLIENT_OWNER="${CLIENT_OWNER:-10001}"
CA_KEY=/ca-key/ca.key

if [[ ! -s /certs/ca.crt ]]; then
  cockroach cert create-ca --certs-dir=/certs --ca-key="$CA_KEY" --allow-ca-key-reuse
  echo "certs: created the CA"
fi
if [[ ! -s /certs/node.crt ]]; then
  # shellcheck disable=SC2086 # one argument per name
  cockroach cert create-node $NODE_NAMES --certs-dir=/certs --ca-key="$CA_KEY"
  echo "certs: created the node certificate for $NODE_NAMES"
fi

cp /certs/ca.crt /client-certs/ca.crt
for user in $CLIENT_USERS; do
  if [[ ! -s /client-certs/client.$user.crt ]]; then
    cockroach cert create-client "$user" --certs-dir=/client-certs --ca-key="$CA_KEY"
    echo "certs: created the client certificate of $user"
  fi
done

# The driver runs as CLIENT_OWNER; keys stay 0600 (cockroach insists).
chown -R "$CLIENT_OWNER" /client-certs
chmod 0644 /certs/ca.crt /client-certs/ca.crt
chmod 0600 /client-certs/*.key /certs/node.key "$CA_KEY"
cockroach cert list --certs-dir=/client-certs
