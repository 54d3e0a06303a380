package account

import (
	"context"
	"testing"

	"github.com/sotto-im/sotto/secret"
)

// Manager.Policy is the contact's own policy if set, else the account's
// (also after Preferences-like saves of Prefs, which hold no policy), and
// the default for an unknown account. The loop's policyFor asks the same
// rule.
func TestManagerPolicy(t *testing.T) {
	ctx := context.Background()
	prof := openTestProfile(t, t.TempDir())
	m := NewManager(prof, secret.NewMemory())
	const alice, bob, carol = "alice@example.org", "bob@example.net", "carol@example.net"
	if err := m.AddAccount(ctx, Settings{JID: alice, Policy: Manual}, "pw"); err != nil {
		t.Fatal(err)
	}
	if got := m.Policy(alice, ""); got != Manual {
		t.Errorf("account policy = %v, want Manual", got)
	}
	if got := m.Policy(alice, bob); got != Manual {
		t.Errorf("contact without a policy = %v, want the account's Manual", got)
	}
	if err := m.SetPolicy(ctx, alice, bob, Always); err != nil {
		t.Fatal(err)
	}
	if got := m.Policy(alice, bob); got != Always {
		t.Errorf("contact's own policy = %v, want Always", got)
	}
	if err := m.SetPolicy(ctx, alice, "", Opportunistic); err != nil {
		t.Fatal(err)
	}
	if err := prof.SavePrefs(Prefs{PlainHistory: true}); err != nil {
		t.Fatal(err)
	}
	if got, other := m.Policy(alice, bob), m.Policy(alice, carol); got != Always || other != Opportunistic {
		t.Errorf("after changing the account's policy: bob %v (want Always), carol %v (want Opportunistic)", got, other)
	}
	if got := m.Policy("nobody@example.org", bob); got != Opportunistic {
		t.Errorf("unknown account = %v, want Opportunistic", got)
	}
	c := &client{m: m, settings: prof.Accounts()[0]}
	if got := c.policyFor(bob); got != Always {
		t.Errorf("loop's policyFor(bob) = %v, want Always", got)
	}
	if got := c.policyFor(carol); got != Opportunistic {
		t.Errorf("loop's policyFor(carol) = %v, want Opportunistic", got)
	}
}
