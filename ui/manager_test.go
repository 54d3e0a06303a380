package ui

import "github.com/sotto-im/sotto/account"

// *account.Manager must satisfy everything the UI asks of it, so main.go
// can pass it to New as is.
var _ Backend = (*account.Manager)(nil)

// The profile stores the UI's preferences and state directly.
var _ PrefsStore = (*account.Profile)(nil)
