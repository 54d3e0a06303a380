package account

// What a login attempt tells the UI beyond "it failed": the two answers a
// first-run wizard acts on (ask about the certificate, ask for the
// password again), and the resource name each installation binds.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
)

// ErrPasswordRefused is wrapped by TestConnection's error when the server
// refused the address or password (as opposed to not being reachable).
var ErrPasswordRefused = errors.New("account: the server refused the password")

// CertificateError is TestConnection's error when the server presented a
// certificate that is neither trusted by the system nor pinned. Question
// carries what to show; TrustCertificate with its Fingerprint pins it.
type CertificateError struct {
	Question CertificateQuestion
	msg      string
}

func (e *CertificateError) Error() string { return e.msg }

// NewResource is a resource name for a new installation's account:
// "sotto-" and four random hex digits, to be saved in its Settings (the
// wizard does). A fixed "sotto" made two instances (or two computers) on
// one account kick each other off the server every few seconds (RFC 6120
// §7.7.2.2, resource conflict). Settings with Resource "" still bind
// "sotto", as before.
func NewResource() string {
	// crypto/rand, not m.opt.rand: the name is no secret, and reading
	// from an injected deterministic source would shift what tests expect.
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return "sotto-" + hex.EncodeToString(b)
}
