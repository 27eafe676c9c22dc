#!/bin/sh
# Creates the realm once, the user and service principals (random keys, no
# passwords), exports the keytabs and runs the KDC in the foreground.
#   $KEYTAB_DIR_SERVER/server.keytab   every SERVICE_PRINCIPALS, for the nodes
#                                      (KRB5_KTNAME): their GSSAPI acceptor
#                                      takes any principal in it
#   $KEYTAB_DIR_CLIENT/<user>.keytab   one per USER_PRINCIPALS, for the driver
# Keytabs are exported with -norandkey, so a restart keeps them valid.
set -eu
: "${REALM:=EXAMPLE.COM}"
: "${SERVICE_PRINCIPALS:?service principals, e.g. customspn/lb}"
: "${USER_PRINCIPALS:=}"
: "${CLIENT_OWNER:=10001}"
: "${KEYTAB_DIR_SERVER:=/keytabs/server}"
: "${KEYTAB_DIR_CLIENT:=/keytabs/client}"

stash=$(sed -n 's/^ *key_stash_file *= *//p' "${KRB5_KDC_PROFILE:-/etc/krb5kdc/kdc.conf}")
if [ ! -s "$stash" ]; then
  kdb5_util create -s -r "$REALM" -P "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >/dev/null
  echo "kdc: created realm $REALM"
fi

ensure() {
  if ! kadmin.local -r "$REALM" -q "getprinc $1@$REALM" 2>/dev/null | grep -q '^Principal:'; then
    kadmin.local -r "$REALM" -q "addprinc -randkey $1@$REALM" >/dev/null
    echo "kdc: added $1@$REALM"
  fi
}
for p in $SERVICE_PRINCIPALS $USER_PRINCIPALS; do ensure "$p"; done

mkdir -p "$KEYTAB_DIR_SERVER" "$KEYTAB_DIR_CLIENT"
tmp="$KEYTAB_DIR_SERVER/server.keytab.tmp"
rm -f "$tmp"
for p in $SERVICE_PRINCIPALS; do
  kadmin.local -r "$REALM" -q "ktadd -k $tmp -norandkey $p@$REALM" >/dev/null
done
chmod 0600 "$tmp"
mv "$tmp" "$KEYTAB_DIR_SERVER/server.keytab"
for u in $USER_PRINCIPALS; do
  kt="$KEYTAB_DIR_CLIENT/$u.keytab"
  rm -f "$kt"
  kadmin.local -r "$REALM" -q "ktadd -k $kt -norandkey $u@$REALM" >/dev/null
  chown "$CLIENT_OWNER" "$kt"
  chmod 0400 "$kt"
done
echo "kdc: keytabs exported for $SERVICE_PRINCIPALS $USER_PRINCIPALS"
exec krb5kdc -n
