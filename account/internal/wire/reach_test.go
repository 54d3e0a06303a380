package wire

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

// A server that cannot be reached is named as the user wrote it, with
// the cause in plain words, never "dial tcp 127.0.0.1:…: connect:
// connection refused".
func TestDialUnreachablePlainWords(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	var d net.Dialer
	_, _, err = Dial(context.Background(), Params{JID: "alice@localhost", Password: "x",
		Server: "localhost", Port: port, Dial: d.DialContext})
	var re *ReachError
	if !errors.As(err, &re) {
		t.Fatalf("Dial: %v, want a *ReachError", err)
	}
	want := "account: Sotto could not reach localhost on port " + strconv.Itoa(port) + ": nothing is listening there"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want it to start %q", err, want)
	}
	if strings.Contains(err.Error(), "dial tcp") {
		t.Errorf("raw dialer text reached the message: %q", err)
	}
}

func TestReachReasons(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true}, "no server by that name"},
		{context.DeadlineExceeded, "did not answer in time"},
	} {
		if got := reachReason(c.err); !strings.Contains(got, c.want) {
			t.Errorf("reachReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
