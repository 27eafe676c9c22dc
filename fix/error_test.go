package fix

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// dashes renders references the way a command line would.
type dashes struct{}

func (dashes) Flag(f Flag) string       { return "--" + string(f) }
func (dashes) Command(c Command) string { return "tool " + string(c) }

func TestErrorRendersWhatAndFix(t *testing.T) {
	e := &Error{Step: "keytab", What: Textf("keytab %s: no such file", "/x"),
		Fix: Textf("check %v (`%v` exports it)", Flag("keytab"), Command("stack env"))}
	if got, want := e.Error(), "keytab /x: no such file: check the keytab setting (`stack env` exports it)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := e.Render(dashes{}), "keytab /x: no such file: check --keytab (`tool stack env` exports it)"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
	cause := errors.New("connection refused")
	if got := (&Error{Err: cause}).Error(); got != "connection refused" {
		t.Errorf("an Error without What = %q, want its cause's text", got)
	}
}

func TestRenderInsideOuterErrors(t *testing.T) {
	inner := &Error{What: Textf("%v must be positive", Flag("timeout"))}
	outer := fmt.Errorf("configure: %w", inner)
	if got, want := Render(outer, dashes{}), "configure: --timeout must be positive"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
	if got := Render(errors.New("plain"), dashes{}); got != "plain" {
		t.Errorf("Render of a plain error = %q", got)
	}
	nested := &Error{What: Textf("login: %v", outer), Err: outer}
	if got, want := Render(nested, dashes{}), "login: configure: --timeout must be positive"; got != want {
		t.Errorf("Render of a nested error = %q, want %q", got, want)
	}
}

func TestRefers(t *testing.T) {
	e := &Error{What: Textf("%v %q", Flag("krb-source"), "x"), Fix: Textf("use %v or %v", Flag("keytab"), Textf("`%v`", Command("stack up")))}
	if !Refers(e, Flag("krb-source"), Flag("keytab"), Command("stack up")) || Refers(e, Flag("principal")) {
		t.Error("Refers does not see the references of What and Fix, nested ones included")
	}
	if Refers(errors.New("--keytab"), Flag("keytab")) {
		t.Error("a plain error's text counts as a reference")
	}
}

func TestCredentialFailurePredicate(t *testing.T) {
	type predicate interface{ CredentialFailure() bool }
	var p predicate
	if !errors.As(fmt.Errorf("connect: %w", Credential(errors.New("no ticket"))), &p) || !p.CredentialFailure() {
		t.Error("a wrapped Credential error does not answer CredentialFailure true")
	}
	plain := &Error{What: Textf("bad flag")}
	if !errors.As(plain, &p) || p.CredentialFailure() {
		t.Error("an Error not marked as credential answers CredentialFailure true")
	}
	marked := Credential(plain)
	if plain.Credential || !marked.(*Error).Credential || marked.Error() != plain.Error() {
		t.Error("Credential must copy the error, marked, and leave the original alone")
	}
	if Credential(nil) != nil {
		t.Error("Credential(nil) is not nil")
	}
}

// TestChainSurvivesTheLayers checks errors.As finds the causes a mode
// wraps, through an Error and the layers around it.
func TestChainSurvivesTheLayers(t *testing.T) {
	pgErr := &pgconn.PgError{Code: "28000", Message: "certificate authentication failed"}
	x509Err := x509.UnknownAuthorityError{}
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	for _, cause := range []error{pgErr, x509Err, pathErr} {
		wrapped := fmt.Errorf("tls: %w", cause)
		e := &Error{Step: "login", What: Textf("the database refused the SVID: %v", wrapped), Err: wrapped}
		layered := fmt.Errorf("run: %w", Credential(fmt.Errorf("configure: %w", e)))
		var gotPg *pgconn.PgError
		var gotX509 x509.UnknownAuthorityError
		switch cause.(type) {
		case *pgconn.PgError:
			if !errors.As(layered, &gotPg) || gotPg.Code != "28000" {
				t.Errorf("no *pgconn.PgError through %v", layered)
			}
		case x509.UnknownAuthorityError:
			if !errors.As(layered, &gotX509) {
				t.Errorf("no x509.UnknownAuthorityError through %v", layered)
			}
		default:
			if !errors.Is(layered, fs.ErrNotExist) {
				t.Errorf("fs.ErrNotExist not found through %v", layered)
			}
		}
	}
}

func TestSplit(t *testing.T) {
	e := &Error{What: Textf("no role %q", "x"), Fix: Textf("check %v", Flag("vault-role"))}
	detail, repair := Split(fmt.Errorf("configure: %w", e))
	if detail.Render(dashes{}) != `configure: no role "x"` || repair.Render(dashes{}) != "check --vault-role" {
		t.Errorf("Split = %q / %q", detail.Render(dashes{}), repair.Render(dashes{}))
	}
	detail, repair = Split(errors.New("plain"))
	if detail.String() != "plain" || !repair.IsZero() {
		t.Errorf("Split of a plain error = %q / %q", detail, repair)
	}
}
