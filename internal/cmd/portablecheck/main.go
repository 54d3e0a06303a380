// Command portablecheck is the Go half of scripts/portable-test.sh.
//
//	portablecheck setup -dir sotto-data -jid tester@localhost -port 1
//	        (stdin: "PASSPHRASE\nPASSWORD\n")
//
// makes a portable profile the way the first-run wizard would: the account
// in the profile and its password in a new vault.sotto locked with the
// passphrase. Sotto then has to ask for the passphrase at start, unlock the
// vault, and store the OTR key it generates there.
//
//	portablecheck scan -vault sotto-data/vault.sotto FILE...   (stdin: PASSPHRASE)
//
// opens the vault, takes the secrets it holds (account passwords, OTR
// private keys) and searches the given files for them and for the
// passphrase, in every form a careless writer could have used (raw, hex,
// base64, the DSA private exponent x as bytes, hex or decimal). The vault
// file itself should be among the files: it must hold them only encrypted.
// It prints what it looked for (never the values) and every hit, and exits
// 1 if anything was found, 2 on a usage or vault error.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// minNeedle: shorter byte strings match by chance in binary files.
const minNeedle = 6

func main() {
	if len(os.Args) > 1 && os.Args[1] == "setup" {
		if err := setup(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "portablecheck setup:", err)
			os.Exit(2)
		}
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "scan" {
		fmt.Fprintln(os.Stderr, "usage: portablecheck setup|scan ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("scan", flag.ExitOnError)
	vaultPath := fs.String("vault", "", "the vault file")
	_ = fs.Parse(os.Args[2:])
	pass, err := io.ReadAll(io.LimitReader(os.Stdin, 4096))
	pass = bytes.TrimSuffix(pass, []byte("\n"))
	if err != nil || len(pass) == 0 || *vaultPath == "" {
		fmt.Fprintln(os.Stderr, "portablecheck: need -vault and the passphrase on stdin")
		os.Exit(2)
	}
	needles, err := collect(*vaultPath, pass)
	if err != nil {
		fmt.Fprintln(os.Stderr, "portablecheck:", err)
		os.Exit(2)
	}
	names := make([]string, 0, len(needles))
	for n := range needles {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("portablecheck: %d needles (%s) in %d files\n", len(needles), strings.Join(names, ", "), fs.NArg())
	found := 0
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "portablecheck:", err)
			os.Exit(2)
		}
		for _, n := range names {
			if bytes.Contains(data, needles[n]) {
				fmt.Printf("LEAK: %s contains %s\n", path, n)
				found++
			}
		}
	}
	if found > 0 {
		os.Exit(1)
	}
	fmt.Println("portablecheck: no secret found in any file")
}

// collect opens the vault and returns every form of every secret to look
// for, by a descriptive name.
func collect(path string, pass []byte) (map[string][]byte, error) {
	v, err := secret.OpenVault(path, pass)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	out := map[string][]byte{}
	add := func(name string, b []byte) {
		if len(b) < minNeedle {
			return
		}
		out[name] = b
		out[name+" (hex)"] = []byte(hex.EncodeToString(b))
		out[name+" (HEX)"] = []byte(strings.ToUpper(hex.EncodeToString(b)))
		out[name+" (base64)"] = []byte(base64.StdEncoding.EncodeToString(b))
	}
	add("passphrase", pass)
	ctx := context.Background()
	for _, s := range accountsNextTo(path) {
		if pw, err := v.Get(ctx, "password:"+s); err == nil {
			add("password of "+s, pw)
		}
		kb, err := v.Get(ctx, "otr-key:"+s)
		if err != nil {
			continue
		}
		add("stored key of "+s, kb)
		keys, err := otr.ParsePrivateKeys(kb)
		if err != nil || len(keys) != 1 {
			return nil, fmt.Errorf("the key of %s in the vault does not parse: %v", s, err)
		}
		x := keys[0].Key.X
		add("DSA x of "+s, x.Bytes())
		out["DSA x of "+s+" (decimal)"] = []byte(x.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nothing to look for")
	}
	return out, nil
}

// accountsNextTo lists the accounts of the profile the vault belongs to,
// so that we know which secret names to ask the vault for.
func accountsNextTo(vaultPath string) []string {
	p, err := account.OpenProfile(filepath.Dir(vaultPath))
	if p == nil {
		fmt.Fprintln(os.Stderr, "portablecheck: profile:", err)
		return nil
	}
	var jids []string
	for _, s := range p.Accounts() {
		jids = append(jids, s.JID)
	}
	return jids
}

// setup writes the profile and the vault (see the package comment).
func setup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	dir := fs.String("dir", "", "the portable profile folder (sotto-data)")
	jid := fs.String("jid", "", "account")
	port := fs.Int("port", 1, "port on 127.0.0.1 (nothing should listen there)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in, err := io.ReadAll(io.LimitReader(os.Stdin, 4096))
	if err != nil {
		return err
	}
	lines := strings.Split(string(in), "\n")
	if len(lines) < 2 || lines[0] == "" || lines[1] == "" {
		return fmt.Errorf("need the passphrase and the password on stdin")
	}
	p, err := account.OpenProfile(*dir)
	if err != nil {
		return err
	}
	v, err := secret.CreateVault(filepath.Join(*dir, secret.VaultFile), []byte(lines[0]))
	if err != nil {
		return err
	}
	defer v.Close()
	s := account.Settings{JID: *jid, Server: "127.0.0.1", Port: *port, AutoConnect: true}
	return account.NewManager(p, v).AddAccount(context.Background(), s, lines[1])
}
