package omemo

import "errors"

// Errors callers act on. Their text is written for the user; the
// library's own error, when there is one, is reachable through
// errors.Is/As but never part of the text.
var (
	// ErrNotForThisDevice: the sender did not encrypt the message for
	// this device (it may not know the device yet).
	ErrNotForThisDevice = errors.New("omemo: this message was not encrypted for this device")
	// ErrNoSession: a normal message arrived from a device we have no
	// session with (e.g. the session was lost); a new session is needed.
	ErrNoSession = errors.New("omemo: this message could not be decrypted on this device: there is no private session with the sending device")
	// ErrUndecryptable: the message failed to decrypt or authenticate.
	ErrUndecryptable = errors.New("omemo: this message could not be decrypted on this device")
	// ErrReplay: the message was already decrypted once.
	ErrReplay = errors.New("omemo: this message was already received")
	// ErrKeyChanged: a device we know now uses a different identity key.
	ErrKeyChanged = errors.New("omemo: the device's identity key changed")
	// ErrBadSignature: a bundle's signed prekey is not signed by its identity key.
	ErrBadSignature = errors.New("omemo: the device's published keys are not signed correctly")
	// ErrDistrusted: the user distrusted the device; nothing is encrypted for it.
	ErrDistrusted = errors.New("omemo: the device is distrusted")
	// ErrNoSessionWith: Encrypt was asked for a device it has no session
	// with; build one from the device's bundle first.
	ErrNoSessionWith = errors.New("omemo: there is no private session with the device yet")
	// ErrUnknownDevice: SetTrust was given a device whose key we have not seen,
	// or a fingerprint that is not the device's.
	ErrUnknownDevice = errors.New("omemo: the device or its fingerprint is not known")
)

// plainError shows a plain sentence and keeps the cause for errors.Is.
type plainError struct {
	plain error
	cause error
}

func (e *plainError) Error() string   { return e.plain.Error() }
func (e *plainError) Unwrap() []error { return []error{e.plain, e.cause} }

func wrap(plain, cause error) error {
	if cause == nil {
		return plain
	}
	return &plainError{plain: plain, cause: cause}
}
