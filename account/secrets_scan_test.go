package account

// After a scripted private session (login, go private, SMP both ways,
// messages, end), nothing on disk or in any log may hold a password, an
// OTR private key or the text of a private message: the profile
// directories, the server's directory (its debug log records every stanza
// and every SASL element, and its data store), temporary files written
// during the test, the standard logger, and every event text but the
// message bodies themselves.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// secretNeedles are the forms a secret could leak in.
func secretNeedles(name string, s []byte, out map[string][]byte) {
	out[name+" raw"] = s
	out[name+" hex"] = []byte(hex.EncodeToString(s))
	out[name+" HEX"] = []byte(strings.ToUpper(hex.EncodeToString(s)))
	out[name+" base64"] = []byte(base64.StdEncoding.EncodeToString(s))
	out[name+" base64 raw"] = []byte(base64.RawStdEncoding.EncodeToString(s))
}

// keyNeedles adds the private exponent x of the stored OTR key of account.
func keyNeedles(t *testing.T, p *peer, out map[string][]byte) {
	t.Helper()
	b, err := p.secrets.Get(context.Background(), otrKeyName(p.jid))
	if err != nil {
		t.Fatalf("%s has no stored key: %v", p.jid, err)
	}
	keys, err := otr.ParsePrivateKeys(b)
	if err != nil || len(keys) != 1 {
		t.Fatalf("stored key of %s: %v", p.jid, err)
	}
	x := keys[0].Key.X
	secretNeedles(p.jid+" key x", x.Bytes(), out)
	out[p.jid+" key x decimal"] = []byte(x.String())
	out[p.jid+" key file"] = b[:min(len(b), 200)]
}

func TestSecretsScanAfterPrivateSession(t *testing.T) {
	start := time.Now().Add(-time.Second)
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)

	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	// Random texts: literals would be found in the test binary itself.
	private := []string{"the launch code is " + randomID(), "meet me under the clock at " + randomID()}
	for i, text := range private {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		if _, err := from.m.Send(ctx, from.conv(to), text); err != nil {
			t.Fatal(err)
		}
		if m := to.waitFor(0, "private message", isMsg(from.jid, text)).(MessageReceived); !m.Encrypted {
			t.Fatalf("not encrypted: %+v", m)
		}
	}
	question, answer := "Name of the ship "+randomID()+"?", "Calypso-"+randomID()
	mb := b.rec.mark()
	if err := a.m.Authenticate(ctx, a.conv(b), question, answer); err != nil {
		t.Fatal(err)
	}
	req := b.waitFor(mb, "SMP request", func(e Event) bool { _, ok := e.(SMPRequested); return ok }).(SMPRequested)
	if err := b.m.AnswerSMP(ctx, req.Conv, answer); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "verified", isLevel(b.jid, Private))
	ma := a.rec.mark()
	if err := a.m.EndPrivate(ctx, a.conv(b)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "ended", isLevel(b.jid, NotPrivate))
	b.waitFor(0, "bob sees the end", isLevel(a.jid, Finished))
	if s := a.m.Security(a.conv(b)); s.Level != NotPrivate {
		t.Fatalf("after End: %v", s.Level)
	}

	needles := map[string][]byte{}
	for _, p := range []*peer{a, b} {
		pw, err := p.secrets.Get(context.Background(), passwordKey(p.jid))
		if err != nil {
			t.Fatal(err)
		}
		secretNeedles(p.jid+" password", pw, needles)
		user := strings.Split(p.jid, "@")[0]
		plain := append([]byte("\x00"+user+"\x00"), pw...) // SASL PLAIN
		needles[p.jid+" SASL PLAIN"] = []byte(base64.StdEncoding.EncodeToString(plain))
		keyNeedles(t, p, needles)
	}
	for _, s := range append(private, answer, question) {
		secretNeedles(fmt.Sprintf("private text %q", s), []byte(s), needles)
	}

	// The server really logged the session: an empty log would pass.
	if n, _ := otrBodies(srv.StanzaLog()); n < 10 {
		t.Fatalf("only %d OTR bodies in the server log", n)
	}

	scanned, size := 0, 0
	// scan returns the needles found in regular files under root written
	// at or after since.
	scan := func(root string, since time.Time) []string {
		return findNeedles(root, since, needles, &scanned, &size)
	}
	// The scanner finds what it looks for.
	probe := t.TempDir()
	if err := os.WriteFile(filepath.Join(probe, "p"), []byte("..."+base64.StdEncoding.EncodeToString([]byte(private[0]))+"..."), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(scan(probe, time.Time{})) == 0 {
		t.Fatal("the scanner missed a planted secret")
	}
	scanned, size = 0, 0
	var hits []string
	hits = append(hits, scan(a.profile.Dir, time.Time{})...)
	hits = append(hits, scan(b.profile.Dir, time.Time{})...)
	hits = append(hits, scan(srv.Dir(), time.Time{})...)
	// Everything written to the temp dir while the test ran (the
	// profile and server dirs are in it too), except our probe.
	for _, h := range scan(os.TempDir(), start) {
		if !strings.Contains(h, probe) {
			hits = append(hits, h)
		}
	}
	t.Logf("scanned %d files (%d KiB) for %d needles", scanned, size>>10, len(needles))
	for _, h := range hits {
		t.Errorf("found %s", h)
	}
	if scanned < 5 {
		t.Fatalf("only %d files scanned", scanned)
	}

	// The standard logger and the event texts (bodies excepted: showing
	// them is their purpose).
	texts := logged.String()
	for _, p := range []*peer{a, b} {
		for _, e := range p.rec.all() {
			switch e := e.(type) {
			case MessageReceived, MessageStateChanged, SMPRequested:
				// Bodies and the question: shown to the user on purpose.
			default:
				texts += fmt.Sprintf("%+v\n", e)
			}
		}
	}
	for name, n := range needles {
		if bytes.Contains([]byte(texts), n) {
			t.Errorf("%s found in the log output or event texts", name)
		}
	}

	// Profile files are 0600 in 0700 directories.
	for _, p := range []*peer{a, b} {
		checkModes(t, p.profile.Dir)
		n := 0
		_ = filepath.WalkDir(p.profile.Dir, func(_ string, d fs.DirEntry, _ error) error {
			if d != nil && !d.IsDir() {
				n++
			}
			return nil
		})
		if n == 0 {
			t.Fatalf("%s's profile has no files: nothing was checked", p.jid)
		}
	}
}

// TestSecretsScanAfterOMEMO: after OMEMO messages both ways between two
// devices, no profile file, server file or temporary file holds the OMEMO
// state's key, a private key of the store (identity, signed prekey,
// prekeys), a piece of a session record, or a message's text; the OMEMO
// file is 0600 and is not the store in the clear.
func TestSecretsScanAfterOMEMO(t *testing.T) {
	start := time.Now().Add(-time.Second)
	srv, a, b, aj, bj, _, _ := omemoPair(t, deviceOpts{}, deviceOpts{})
	texts := []string{"omemo secret " + randomID(), "omemo reply " + randomID()}
	sendOK(t, a, bj, texts[0])
	b.waitFor(0, texts[0], omemoLine(aj, texts[0]))
	sendOK(t, b, aj, texts[1])
	a.waitFor(0, texts[1], omemoLine(bj, texts[1]))

	needles := map[string][]byte{}
	for _, d := range []*device{a, b} {
		key, err := d.secrets.Get(context.Background(), omemoKeyName(d.jid))
		if err != nil || len(key) != omemoKeySize {
			t.Fatalf("%s: OMEMO key %v", d.jid, err)
		}
		secretNeedles(d.jid+" OMEMO file key", key, needles)
		omemoStoreNeedles(t, d, needles)
	}
	for _, s := range texts {
		secretNeedles(fmt.Sprintf("OMEMO text %q", s), []byte(s), needles)
	}
	scan, hits, scanned := needleScanner(needles)
	for _, d := range []*device{a, b} {
		scan(d.profile.Dir, time.Time{})
		checkModes(t, d.profile.Dir)
		f, err := os.ReadFile(omemoStatePath(d.profile.Dir, d.jid))
		if err != nil || len(f) < 1000 || !bytes.HasPrefix(f, []byte(omemoFileMagic)) || bytes.Contains(f, []byte(`{"Version"`)) {
			t.Fatalf("%s: the OMEMO state file is missing or not encrypted (%v)", d.jid, err)
		}
	}
	scan(srv.Dir(), time.Time{})
	scan(os.TempDir(), start)
	for _, h := range *hits {
		t.Errorf("found %s", h)
	}
	if *scanned < 5 {
		t.Fatalf("only %d files scanned", *scanned)
	}
	t.Logf("scanned %d files for %d needles", *scanned, len(needles))
}

// omemoStoreNeedles adds the secrets of d's OMEMO store as it is now:
// the store itself as Marshal writes it, the identity, signed prekey and
// every prekey private key, and each session's record piece, root key and
// sending chain key.
func omemoStoreNeedles(t *testing.T, d *device, needles map[string][]byte) {
	t.Helper()
	var st []byte
	if err := d.m.accountCall(ctxT(t), d.jid, func(c *client, reply func(error)) {
		var err error
		st, err = c.om().st.Marshal()
		reply(err)
	}); err != nil {
		t.Fatal(err)
	}
	// Its start names the device, so it is this test's own; also as any
	// wrapper would encode it.
	secretNeedles(d.jid+" store", st[:48], needles)
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
		t.Fatalf("%s: store %v", d.jid, err)
	}
	secretNeedles(d.jid+" identity private key", doc.IdentityPrivate, needles)
	secretNeedles(d.jid+" signed prekey private", doc.SignedPreKey.Private, needles)
	for i, pk := range doc.PreKeys {
		secretNeedles(fmt.Sprintf("%s prekey %d private", d.jid, i), pk.Private, needles)
	}
	sessions := 0
	for _, dv := range doc.Devices {
		if len(dv.Session) <= 96 {
			continue
		}
		secretNeedles(fmt.Sprintf("%s session %d record", d.jid, sessions), dv.Session[32:96], needles)
		root, chain := sessionKeys(t, dv.Session)
		if len(root) != 32 || len(chain) != 32 {
			t.Fatalf("%s: a session without root (%d bytes) or chain key (%d bytes)", d.jid, len(root), len(chain))
		}
		secretNeedles(fmt.Sprintf("%s session %d root key", d.jid, sessions), root, needles)
		secretNeedles(fmt.Sprintf("%s session %d chain key", d.jid, sessions), chain, needles)
		sessions++
	}
	if sessions == 0 {
		t.Fatalf("%s has no session to look for", d.jid)
	}
}

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

// needleScanner returns scan, which reads every regular file under root
// changed since since (zero: all) and records each needle it finds.
func needleScanner(needles map[string][]byte) (scan func(root string, since time.Time), hits *[]string, scanned *int) {
	hits, scanned = new([]string), new(int)
	scan = func(root string, since time.Time) {
		var size int
		*hits = append(*hits, findNeedles(root, since, needles, scanned, &size)...)
	}
	return scan, hits, scanned
}

// findNeedles walks the regular files under root written at or after
// since (at most 64 MiB each) and returns "<needle> in <path>" for every
// needle a file holds; it adds to *scanned and *size what it read.
func findNeedles(root string, since time.Time, needles map[string][]byte, scanned, size *int) []string {
	var hits []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil // vanished or unreadable (another process's file)
		}
		fi, err := d.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<20 || fi.ModTime().Before(since) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		*scanned++
		*size += len(data)
		for name, n := range needles {
			if bytes.Contains(data, n) {
				hits = append(hits, name+" in "+path)
			}
		}
		return nil
	})
	return hits
}

// TestOMEMOVaultScanAcrossRestart: portable mode's store — every secret
// in the vault file beside the profile (secret.Vault, as secret.Profile
// uses it with Portable set) — through an OMEMO conversation, a restart
// (the vault opened again with its passphrase) that goes on with the same
// session, and more messages. Then the OMEMO file key is in the vault,
// and no file of the profile folder (the vault included), of the server
// or new in the temporary folder holds it, the passphrase, the password,
// the store, its private keys, a session's root or sending chain key, or
// a message's text. (The portable-mode script never signs in, so it has
// no OMEMO state to look at.)
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
	omemoStoreNeedles(t, a, needles)
	for i, s := range texts {
		secretNeedles(fmt.Sprintf("text %d", i), []byte(s), needles)
	}

	scan, hits, scanned := needleScanner(needles)
	scan(stick, time.Time{})
	scan(srv.Dir(), time.Time{})
	scan(os.TempDir(), start)
	for _, h := range *hits {
		t.Errorf("found %s", h)
	}
	checkModes(t, stick)
	if _, err := os.Stat(omemoStatePath(stick, aj)); err != nil {
		t.Fatalf("no OMEMO state file in the profile: %v", err)
	}
	if *scanned < 5 {
		t.Fatalf("only %d files scanned", *scanned)
	}
	t.Logf("scanned %d files for %d needles", *scanned, len(needles))
}
