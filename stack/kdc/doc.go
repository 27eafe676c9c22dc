// Package kdc is the stack's Kerberos component: it runs a real MIT
// Kerberos KDC (krb5kdc) as a detached child process, gives PostgreSQL a
// keytab and the gss users their keytabs and pg_hba lines (component.go:
// state.json section "kerberos", flags --realm and --ticket-lifetime,
// `--without kerberos`), and offers the KDC itself (Start, Stop, Load,
// AddPrincipal, ExportKeytab) to tests and tools.
//
// Everything lives under one directory (Config.Dir):
//
//	kdc.conf        KDC profile (KRB5_KDC_PROFILE): listens on 127.0.0.1:<port> only
//	krb5.conf       client profile (KRB5_CONFIG) for kinit, gokrb5 and libpq
//	kadm5.acl       empty ACL (kadmind is not run; kadmin.local needs no ACL)
//	principal*      the principal database (db2)
//	stash           the master key stash; the master password is random and never stored
//	kdc.json        realm, port and lifetimes, so Load and a later Start find them
//	krb5kdc.pid     pid of the running KDC
//	krb5kdc.log     KDC log; kadmin.log for kadmin.local; krb5kdc.out for startup errors
//
// Every command runs with KRB5_CONFIG and KRB5_KDC_PROFILE pointing into the
// directory, so the host's /etc/krb5.conf and /etc/krb5kdc are never read or
// written. Principals get the configured maximum ticket and renewable
// lifetimes, and so does krbtgt/REALM: the KDC grants the minimum of the
// client's, the service's (krbtgt for a TGT) and the realm's max_life, so a
// short TicketLifetime really yields short tickets.
//
// Start and Stop on one directory are not meant to run concurrently: the
// stack calls them from one place.
//
// Keys are aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96 only, the
// enctypes both MIT and github.com/jcmturner/gokrb5/v8 support.
package kdc
