#!/bin/sh
# Registration entries for the compose topology, idempotent:
#   a node alias for every agent whose x509pop certificate has CN $AGENT_CN;
#   the authbench workload (docker label $WORKLOAD_LABEL) under it, with
#   -dns $SQL_USER first, so the SVID's CN is the SQL user CockroachDB maps
#   the certificate to, and a short TTL, so SVIDs rotate during a run.
set -eu
: "${TRUST_DOMAIN:=example.org}"
: "${AGENT_CN:?the CN of the agent's x509pop certificate}"
: "${WORKLOAD_LABEL:?docker label key:value of the driver container}"
: "${SQL_USER:?SQL user the SVID authenticates as}"
: "${SVID_TTL:=600}"
SOCK=/tmp/spire-server/private/api.sock
NODE_ID="spiffe://$TRUST_DOMAIN/node/compose-agents"
WORKLOAD_ID="spiffe://$TRUST_DOMAIN/authbench/$SQL_USER"

i=0
until spire-server healthcheck -socketPath "$SOCK" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then echo "register: the SPIRE server never became healthy" >&2; exit 1; fi
  sleep 2
done

has() { spire-server entry show -socketPath "$SOCK" -spiffeID "$1" | grep -q 'Entry ID'; }

if ! has "$NODE_ID"; then
  spire-server entry create -socketPath "$SOCK" -node \
    -spiffeID "$NODE_ID" \
    -selector "x509pop:subject:cn:$AGENT_CN"
fi
if ! has "$WORKLOAD_ID"; then
  spire-server entry create -socketPath "$SOCK" \
    -parentID "$NODE_ID" \
    -spiffeID "$WORKLOAD_ID" \
    -dns "$SQL_USER" \
    -selector "docker:label:$WORKLOAD_LABEL" \
    -x509SVIDTTL "$SVID_TTL"
fi
spire-server entry show -socketPath "$SOCK"
