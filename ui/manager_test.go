package ui

import "github.com/sotto-im/sotto/account"

// *account.Manager must satisfy everything the UI asks of it, so main.go
// can pass it to New as is.
var _ Backend = (*account.Manager)(nil)

// The profile can store the UI's preferences directly.
var _ PrefsStore = (*account.Profile)(nil)
