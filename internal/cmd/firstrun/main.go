// Command firstrun is the test bed of scripts/firstrun-test.sh: a private
// Prosody with a self-signed certificate and two accounts, alice and bob,
// that know nothing of each other. It prints one line the script reads
//
//	port=5222 alice=<password> bob=<password> cert=<sha-256 hex>
//
// then runs until its standard input closes or it gets SIGINT/SIGTERM,
// and stops Prosody. Unlike internal/cmd/demo it sets nothing up in any
// Sotto profile: the script does all of that through the GUI.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/sotto-im/sotto/internal/testbed"
)

func main() {
	dir := flag.String("dir", "", "folder for Prosody's config, data and logs (made if missing)")
	port := flag.Int("port", 5222, "STARTTLS port to try first (falls back to a free one)")
	flag.Parse()
	if err := run(*dir, *port); err != nil {
		fmt.Fprintln(os.Stderr, "firstrun:", err)
		os.Exit(1)
	}
}

func run(dir string, port int) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	srv, err := testbed.StartServer(dir, testbed.WithPort(port))
	if srv != nil {
		defer srv.Close()
	}
	if err != nil {
		return err
	}
	pw := map[string]string{}
	for _, u := range []string{"alice", "bob"} {
		pw[u] = testbed.RandomPassword()
		if _, err := srv.Register(u, pw[u]); err != nil {
			return err
		}
	}
	b, _ := pem.Decode(srv.CertPEM())
	if b == nil {
		return fmt.Errorf("the server certificate is not PEM")
	}
	sum := sha256.Sum256(b.Bytes)
	_, p, _ := net.SplitHostPort(srv.Addr())
	fmt.Printf("port=%s alice=%s bob=%s cert=%s\n", p, pw["alice"], pw["bob"], hex.EncodeToString(sum[:]))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-sig:
	case <-eof:
	}
	return nil
}
