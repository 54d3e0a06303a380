package main

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/sotto-im/sotto/account"
)

// TestPortableSecretsUseOnlyTheVault: in portable mode the first secret
// creates the vault with the passphrase the user gives; a restart with a
// wrong passphrase is asked again with a plain problem line and the file
// is left as it was.
func TestPortableSecretsUseOnlyTheVault(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	ctx := context.Background()
	var asked []string
	answers := []string{"a long passphrase"}
	ask := func(_ context.Context, create bool, problem string) (string, error) {
		asked = append(asked, problem)
		if len(answers) == 0 {
			return "", errors.New("cancelled")
		}
		a := answers[0]
		answers = answers[1:]
		if create != (len(asked) == 1 && !fileExists(loc.vaultPath())) {
			t.Errorf("ask %d: create=%v", len(asked), create)
		}
		return a, nil
	}
	s := newSecrets(loc, ask)
	if err := s.store.Set(ctx, "password:alice@example.org", []byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(loc.vaultPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("vault file: %v %v", fi, err)
	}
	before, _ := os.ReadFile(loc.vaultPath())

	// A fresh start: wrong passphrase first, then the right one.
	asked, answers = nil, []string{"wrong guess!", "a long passphrase"}
	s2 := newSecrets(loc, ask)
	got, err := s2.store.Get(ctx, "password:alice@example.org")
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("get after unlock: %q %v", got, err)
	}
	if len(asked) != 2 || asked[0] != "" || asked[1] == "" {
		t.Fatalf("want a second prompt that names the problem, got %q", asked)
	}
	after, _ := os.ReadFile(loc.vaultPath())
	if string(before) != string(after) {
		t.Error("a wrong passphrase changed the vault file")
	}

	// The user gives up: a clear error, the secret is not lost.
	asked, answers = nil, nil
	s3 := newSecrets(loc, ask)
	if _, err := s3.store.Get(ctx, "password:alice@example.org"); err == nil {
		t.Fatal("a cancelled prompt must not unlock the vault")
	}
	if _, err := os.Stat(loc.vaultPath()); err != nil {
		t.Fatal("vault file lost")
	}
}

func TestNoKeyringIsUnavailable(t *testing.T) {
	if _, err := (noKeyring{}).Get(context.Background(), "x"); !errors.Is(err, account.ErrStoreUnavailable) {
		t.Fatalf("got %v", err)
	}
}
