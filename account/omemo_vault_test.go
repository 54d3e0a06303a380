package account

// OMEMO in portable mode: every secret in the vault file beside the
// profile (secret.Vault, as secret.Profile uses it with Portable set),
// across a restart that goes on with the same sessions.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/secret"
)

// sessionKeys are a stored session's root key and sending chain key
// (libsignal's JSON session record, as package omemo keeps it).
func sessionKeys(t *testing.T, rec []byte) (root, chain []byte) {
	t.Helper()
	var s struct {
		SessionState struct {
			RootKey     []byte
			SenderChain struct {
				ChainKey struct{ Key []byte }
			}
		}
	}
	if err := json.Unmarshal(rec, &s); err != nil {
		t.Fatalf("session record: %v", err)
	}
	return s.SessionState.RootKey, s.SessionState.SenderChain.ChainKey.Key
}

func TestOMEMOVaultScanAcrossRestart(t *testing.T) {
	start := time.Now().Add(-time.Second)
	srv := omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	// The stick's sotto-data folder: alice's profile and her vault.
	stick := t.TempDir()
	pass := "stick passphrase " + randomID()
	vpath := filepath.Join(stick, secret.VaultFile)
	cheap := secret.WithKDFParams(secret.KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1})
	v, err := secret.CreateVault(vpath, []byte(pass), cheap)
	if err != nil {
		t.Fatal(err)
	}
	a := startDevice(t, srv, aj, apw, "a1", deviceOpts{dir: stick, secrets: v})
	b := startDevice(t, srv, bj, bpw, "b1", deviceOpts{})
	befriend(t, a.peer, b.peer)
	aid, bid := a.ownID(), b.ownID()
	a.knows(bj, bid)
	b.knows(aj, aid)
	texts := []string{"vault one " + randomID(), "vault two " + randomID(), "vault three " + randomID(), "vault four " + randomID()}
	sendOK(t, a, bj, texts[0])
	b.waitFor(0, texts[0], omemoLine(aj, texts[0]))
	sendOK(t, b, aj, texts[1])
	a.waitFor(0, texts[1], omemoLine(bj, texts[1]))

	// A restart: the vault is locked and opened again with the passphrase.
	a.stop()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	v, err = secret.OpenVault(vpath, []byte(pass))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	a = startDevice(t, srv, aj, apw, "a1", deviceOpts{dir: stick, secrets: v})
	if got := a.ownID(); got != aid {
		t.Fatalf("alice came back as device %d, was %d", got, aid)
	}
	a.knows(bj, bid)
	sendOK(t, a, bj, texts[2])
	b.waitFor(0, texts[2], omemoLine(aj, texts[2]))
	if w := a.wire(); len(w) == 0 || strings.Contains(w[len(w)-1], "prekey=") {
		t.Fatalf("alice started a new session after the restart: %q", w)
	}
	sendOK(t, b, aj, texts[3])
	a.waitFor(0, texts[3], omemoLine(bj, texts[3]))

	// The OMEMO state file's key is in the vault, nowhere else.
	key, err := v.Get(context.Background(), omemoKeyName(aj))
	if err != nil || len(key) != omemoKeySize {
		t.Fatalf("the OMEMO key is not in the vault: %v", err)
	}
	needles := map[string][]byte{}
	secretNeedles("OMEMO file key", key, needles)
	secretNeedles("vault passphrase", []byte(pass), needles)
	secretNeedles("account password", []byte(apw), needles)
	var st []byte
	if err := a.m.accountCall(ctxT(t), aj, func(c *client, reply func(error)) {
		var err error
		st, err = c.om().st.Marshal()
		reply(err)
	}); err != nil {
		t.Fatal(err)
	}
	// The store as Marshal writes it (its start names the device), also
	// as any wrapper would encode it.
	secretNeedles("store", st[:48], needles)
	var doc struct {
		IdentityPrivate []byte `json:"identity_private"`
		SignedPreKey    struct {
			Private []byte `json:"private"`
		} `json:"signed_prekey"`
		PreKeys []struct {
			Private []byte `json:"private"`
		} `json:"prekeys"`
		Devices []struct {
			Session []byte `json:"session"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(st, &doc); err != nil || len(doc.IdentityPrivate) != 32 || len(doc.PreKeys) < 5 {
		t.Fatalf("alice's store: %v", err)
	}
	secretNeedles("identity private key", doc.IdentityPrivate, needles)
	secretNeedles("signed prekey private", doc.SignedPreKey.Private, needles)
	for i, pk := range doc.PreKeys {
		secretNeedles(fmt.Sprintf("prekey %d private", i), pk.Private, needles)
	}
	sessions := 0
	for _, d := range doc.Devices {
		if d.Session == nil {
			continue
		}
		root, chain := sessionKeys(t, d.Session)
		if len(root) != 32 || len(chain) != 32 {
			t.Fatalf("a session without root (%d bytes) or chain key (%d bytes)", len(root), len(chain))
		}
		secretNeedles(fmt.Sprintf("session %d root key", sessions), root, needles)
		secretNeedles(fmt.Sprintf("session %d chain key", sessions), chain, needles)
		sessions++
	}
	if sessions == 0 {
		t.Fatal("alice has no session to look for")
	}
	for i, s := range texts {
		secretNeedles(fmt.Sprintf("text %d", i), []byte(s), needles)
	}

	var hits []string
	scanned := 0
	scan := func(root string, since time.Time) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<20 || fi.ModTime().Before(since) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			scanned++
			for name, n := range needles {
				if bytes.Contains(data, n) {
					hits = append(hits, name+" in "+path)
				}
			}
			return nil
		})
	}
	scan(stick, time.Time{})
	scan(srv.Dir(), time.Time{})
	scan(os.TempDir(), start)
	for _, h := range hits {
		t.Errorf("found %s", h)
	}
	checkModes(t, stick)
	if _, err := os.Stat(omemoStatePath(stick, aj)); err != nil {
		t.Fatalf("no OMEMO state file in the profile: %v", err)
	}
	if scanned < 5 {
		t.Fatalf("only %d files scanned", scanned)
	}
	t.Logf("scanned %d files for %d needles (%d sessions)", scanned, len(needles), sessions)
}
