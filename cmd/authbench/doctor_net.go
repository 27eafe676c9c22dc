package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

// network checks the way to the load balancer: DNS, TCP and the server's
// certificate. It returns what the TLS handshake taught about the server.
func (d *doctor) network(ctx context.Context, cfg *pgxpool.Config) authmodes.DiagnoseEnv {
	cc := cfg.ConnConfig
	var env authmodes.DiagnoseEnv
	if strings.HasPrefix(cc.Host, "/") {
		d.rep.add(authmodes.Skip("dns", "--host is a unix socket directory"), authmodes.Skip("tcp", "--host is a unix socket directory"),
			authmodes.Skip("tls", "no TLS over a unix socket"))
		return env
	}
	var seq authmodes.Sequence
	d.step(&seq, "dns", func() authmodes.Check { return d.checkDNS(ctx, cc.Host) })
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	d.step(&seq, "tcp", func() authmodes.Check {
		var c authmodes.Check
		conn, c = d.checkTCP(ctx, cc.Host, cc.Port)
		return c
	})
	if cc.TLSConfig == nil {
		d.rep.add(authmodes.Skip("tls", "TLS is off (sslmode disable)"))
		return env
	}
	d.step(&seq, "tls", func() authmodes.Check {
		v := tlsVerify{host: cc.Host, roots: cc.TLSConfig.RootCAs, checkName: !cc.TLSConfig.InsecureSkipVerify, caName: d.caName()}
		c, cas := d.checkTLS(ctx, conn, v)
		env.ClientCAs = cas
		return c
	})
	return env
}

// step runs one step of seq and prints it at once.
func (d *doctor) step(seq *authmodes.Sequence, name string, f func() authmodes.Check) {
	seq.Run(name, f)
	d.rep.add(seq.Checks[len(seq.Checks)-1])
}

// checkDNS resolves the load balancer's host name.
func (d *doctor) checkDNS(ctx context.Context, host string) authmodes.Check {
	if net.ParseIP(host) != nil {
		return authmodes.Pass("dns", host+" is an IP address (no lookup)")
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return authmodes.Fail("dns", fmt.Sprintf("cannot resolve --host %s: %s", host, rootCause(err)),
			"check --host (the load balancer's name) and this machine's DNS or /etc/hosts")
	}
	return authmodes.Pass("dns", fmt.Sprintf("%s resolves to %s", host, strings.Join(addrs, ", ")))
}

// checkTCP connects to the load balancer; the caller closes the returned
// connection.
func (d *doctor) checkTCP(ctx context.Context, host string, port uint16) (net.Conn, authmodes.Check) {
	addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
	dialer := net.Dialer{Timeout: d.timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, authmodes.Fail("tcp", fmt.Sprintf("cannot connect to the load balancer at %s: %s", addr, rootCause(err)),
			"is the load balancer up? check --host and --port, or run `authbench stack up`")
	}
	return conn, authmodes.Pass("tcp", fmt.Sprintf("connected to %s (%s), the load balancer", addr, conn.RemoteAddr()))
}

// caName names the CA the server is verified with, for messages.
func (d *doctor) caName() string {
	if d.c.conn.URL == "" && d.c.conn.CAFile != "" {
		return "--ca " + d.c.conn.CAFile
	}
	return "the URL's sslrootcert"
}

// rootCause returns the innermost error's text, e.g. "connection refused".
func rootCause(err error) string {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return oneLine(err.Error())
		}
		err = u.Unwrap()
	}
}
