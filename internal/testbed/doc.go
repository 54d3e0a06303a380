// Package testbed starts a private Prosody XMPP server on 127.0.0.1 for
// tests that need a real server.
//
// Each call to Start makes a temporary directory with its own Prosody
// config, data directory and a self-signed certificate made with openssl
// (SAN DNS:localhost and IP:127.0.0.1), picks free ports on the loopback
// interface and runs Prosody in the foreground as a child of the test
// binary. It never touches /etc/prosody, /var/lib/prosody or the system
// service.
//
// The server requires TLS on c2s (STARTTLS on Addr, direct TLS on
// DirectTLSAddr), authenticates with internal_hashed (so it offers
// SCRAM-SHA-1 and PLAIN), has s2s and http off, and loads the modules the
// account tests need: roster, saslauth, tls, disco, carbons, ping and
// mod_stanza_debug. mod_stanza_debug writes every stanza the server sends
// or receives to a debug log; StanzaLog returns those lines so a test can
// prove what the server saw (for OTR: only "?OTR:" bodies).
//
// Running as root, the config sets run_as_root = true (the data directory
// is the test's own temp dir, owned by the test's user, so no permission
// juggling is needed). As a normal user the same config works unchanged.
//
// Stop shuts Prosody down cleanly (clients get a closing stream), Kill
// drops it like a crash; Restart brings it back on the same ports and data.
//
// Process lifetime: the server is killed by t.Cleanup, also when the test
// fails. On Linux the child gets PR_SET_PDEATHSIG=SIGKILL, so it dies with
// the test binary even on a panic or a test timeout; Main additionally
// kills every server still running when the tests end and on SIGINT or
// SIGTERM:
//
//	func TestMain(m *testing.M) { testbed.Main(m) }
//
// Options: WithHost serves a second virtual host (its name in the
// certificate too), WithRegistration turns on XEP-0077 in-band
// registration, WithModules loads more Prosody modules (e.g. "pep",
// "offline").
//
// Besides Prosody: SharedEjabberd (ejabberd.go, one ejabberd 23.01 per
// test binary, fresh users per test), StartDNS (dns.go, dnsmasq on a free
// loopback port with the test's SRV and address records and a query log)
// and StartSOCKS (socks.go, microsocks on loopback, optionally resolving
// names only it knows). XMPP is what tests need of either server.
//
// StartProfanity (profanity.go) runs profanity 0.13.1 in a private,
// detached tmux session as an independent OMEMO peer: log in, "/omemo
// gen" until device list and bundle are on the server, fingerprints,
// trust, send, and the received messages read back from its chat log;
// SubscribeBoth sets up presence subscriptions between two accounts. Its
// doc comment lists profanity's OMEMO quirks.
//
// If prosody, prosodyctl or openssl is missing, Start skips the test, or
// fails it when the environment variable CI is "true"; the same for
// ejabberd, dnsmasq, microsocks, profanity and tmux.
package testbed
