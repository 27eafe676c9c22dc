package vaultsrvtest

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestDBKeepsRolesAndLogs(t *testing.T) {
	ctx := context.Background()
	db := NewDB("app_static")
	until := time.Unix(2000, 0)
	if err := db.CreateRole(ctx, "v-a", "pw-a", until, []string{"app_read"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRole(ctx, "v-a", "again", until, nil); err == nil {
		t.Error("a role created twice")
	}
	if err := db.SetPassword(ctx, "app_static", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, "nobody", "x"); err == nil {
		t.Error("password set on a missing role")
	}
	if err := db.SetValidUntil(ctx, "v-a", until.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r, ok := db.Role("v-a")
	if !ok || r.Password != "pw-a" || !r.ValidUntil.Equal(until.Add(time.Hour)) || !slices.Equal(r.Grants, []string{"app_read"}) {
		t.Errorf("role v-a = %+v, %v", r, ok)
	}
	if db.Password("app_static") != "s1" || !slices.Equal(db.PasswordsOf("app_static"), []string{"s1"}) {
		t.Errorf("static password %q, log %v", db.Password("app_static"), db.PasswordsOf("app_static"))
	}
	if got := db.RolesWithPrefix("v-"); !slices.Equal(got, []string{"v-a"}) {
		t.Errorf("dynamic roles %v", got)
	}
	db.SetFailDrop(true)
	if err := db.DropRole(ctx, "v-a"); err == nil || db.WasDropped("v-a") {
		t.Error("drop did not fail as asked")
	}
	db.SetFailDrop(false)
	if err := db.DropRole(ctx, "v-a"); err != nil || !db.WasDropped("v-a") || len(db.RolesWithPrefix("v-")) != 0 {
		t.Errorf("drop: %v", err)
	}
}
