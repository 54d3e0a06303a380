package wire

import (
	"strings"
	"testing"

	"github.com/sotto-im/sotto/account/internal/sm"
)

// TestWriteLockedReachesServerAlone: one stanza written with WriteLocked,
// and then nothing else, reaches the server (the server's reader having
// the whole stanza is the sentinel); likewise one <r/> from WriteSM. A
// write left in a buffer would only go out with the next one, which on
// a quiet link may never come (the suspect when the wiring first failed
// TestEjabberdPrivateConversation; the cause was ejabberd's log, see
// internal/testbed's TestEjabberdLogKeepsBursts).
func TestWriteLockedReachesServerAlone(t *testing.T) {
	p, srv, _, _, _ := pipeServer(t, serverOpts{password: true})
	sess, raw, err := Dial(ctxT(t), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	fs := <-srv
	counted := 0
	msg := OutMessage{ID: "w1", To: "bob@localhost", Type: "chat", Body: "hello"}
	if err := WriteLocked(sess, msg, func() { counted++ }); err != nil {
		t.Fatal(err)
	}
	if got := fs.next(); !strings.Contains(got, "w1") || !strings.Contains(got, "hello") {
		t.Fatalf("server got %q, want the message", got)
	}
	if counted != 1 {
		t.Fatalf("counted %d times, want 1", counted)
	}
	if err := WriteSM(sess, sm.WriteRequest); err != nil {
		t.Fatal(err)
	}
	if got := fs.next(); !strings.Contains(got, "<r") || !strings.Contains(got, sm.NS) {
		t.Fatalf("server got %q, want <r/>", got)
	}
}
