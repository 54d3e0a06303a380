package account

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/omemo"
	"github.com/sotto-im/sotto/secret"
)

// TestOMEMOStanzaOnlyFromTheSession: text a user typed never becomes
// stanza XML, even when it looks like an OMEMO element; an OMEMO
// session's own element becomes the element, the hints and the fallback.
func TestOMEMOStanzaOnlyFromTheSession(t *testing.T) {
	typed := omemoPrefix + "<header sid='1'><key rid='2'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header></encrypted></message><iq type='set'/>"
	otr := &privConv{e2e: keylessSession{}}
	m := wire.OutMessage{Body: typed}
	if !omemoStanza(otr, &m) || m.Body != typed || m.Extra != nil {
		t.Fatalf("plain conversation: %+v", m)
	}
	om := &privConv{e2e: &omemoSession{}}
	m = wire.OutMessage{Body: typed}
	if omemoStanza(om, &m) {
		t.Fatalf("an element that is not exactly omemo's was accepted: %+v", m)
	}
	e := &omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte{1, 2, 3}}}, IV: make([]byte, 12), Payload: []byte{4}}
	m = wire.OutMessage{Body: string(e.Marshal())}
	if !omemoStanza(om, &m) || m.Body != wire.OMEMOFallback || !strings.HasPrefix(string(m.Extra), string(e.Marshal())) {
		t.Fatalf("OMEMO message: %+v", m)
	}
	e.Payload = nil
	m = wire.OutMessage{Body: string(e.Marshal())}
	if !omemoStanza(om, &m) || m.Body != "" {
		t.Fatalf("key transport has a body: %+v", m)
	}
}

// TestOMEMOStateFile: the state round-trips through its encrypted file;
// a damaged file, or one whose key is gone, is moved aside (never
// deleted) and a new device starts; a key that cannot be read is never
// replaced and leaves OMEMO unavailable.
func TestOMEMOStateFile(t *testing.T) {
	ctx := context.Background()
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mem := secret.NewMemory()
	m := NewManager(prof, mem)
	const acct = "alice@localhost"
	path := omemoStatePath(prof.Dir, acct)
	l := m.loadOMEMO(ctx, acct)
	if l.unavailable != "" || l.st == nil {
		t.Fatalf("first load: %+v", l)
	}
	id := l.st.DeviceID()
	if err := saveOMEMO(path, l.key, l.st, map[string][]uint32{"bob@localhost": {7}}, []string{"carol@localhost"}, nil); err != nil {
		t.Fatal(err)
	}
	again := m.loadOMEMO(ctx, acct)
	if again.st == nil || again.st.DeviceID() != id || len(again.lists["bob@localhost"]) != 1 || len(again.noOMEMO) != 1 || again.notice != "" {
		t.Fatalf("reload: %+v", again)
	}
	// The file of another account (or a swapped file) does not open.
	if _, err := openOMEMO(l.key, "mallory@localhost", mustRead(t, path)); err == nil {
		t.Fatal("opened under another account's name")
	}
	// Damaged: moved aside, a new device.
	b := mustRead(t, path)
	b[len(b)-1] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := m.loadOMEMO(ctx, acct)
	if fresh.st == nil || fresh.st.DeviceID() == id || !strings.Contains(fresh.notice, "kept as") {
		t.Fatalf("damaged file: %+v", fresh)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 1 {
		t.Fatalf("moved aside: %v", aside)
	}
	// Locked: unavailable, and the key is the one stored before.
	key, _ := mem.Get(ctx, omemoKeyName(acct))
	locked := &lockedOMEMO{Store: mem}
	lm := NewManager(prof, locked)
	if l := lm.loadOMEMO(ctx, acct); l.st != nil || !strings.Contains(l.unavailable, "cannot be read") {
		t.Fatalf("locked: %+v", l)
	}
	if now, _ := mem.Get(ctx, omemoKeyName(acct)); string(now) != string(key) || locked.replaced {
		t.Fatal("the key was replaced while it could not be read")
	}
	// The key is gone (a new keyring): the old file is kept aside.
	if err := mem.Delete(ctx, omemoKeyName(acct)); err != nil {
		t.Fatal(err)
	}
	if l := m.loadOMEMO(ctx, acct); l.st == nil || !strings.Contains(l.notice, "kept as") {
		t.Fatalf("without its key: %+v", l)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 2 {
		t.Fatalf("moved aside: %v", aside)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
