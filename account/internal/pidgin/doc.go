// Package pidgin reads what Pidgin (libpurple with the pidgin-otr plugin)
// keeps in its profile folder: the XMPP accounts of accounts.xml, the OTR
// private keys of otr.private_key and the contacts' known fingerprints of
// otr.fingerprints. Only prpl-jabber entries are taken.
//
// It is a pure parser: Read returns what it found and stores nothing; the
// account package turns the result into settings, secrets and trust. Files
// are read whole but bounded (16 MiB each). Pidgin keeps passwords in plain
// text in accounts.xml; they are never mapped (the user types the password
// again and it goes to the secret store), and the buffer holding the file is
// wiped after parsing.
//
// Usage:
//
//	dir, err := pidgin.DefaultDir() // ~/.purple, or %APPDATA%\.purple
//	imp, err := pidgin.Read(dir)
//	for _, a := range imp.Accounts { … }
package pidgin
