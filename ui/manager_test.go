package ui

import "github.com/sotto-im/sotto/account"

// *account.Manager must satisfy what the UI asks of it. Importer is
// checked separately: ImportPidgin(ctx, dir) is added by the account
// helper (see the report); until then main.go can wrap it.
var _ interface {
	Sender
	Privacy
	Keys
	Roster
	Accounts
} = (*account.Manager)(nil)

// The profile can store the UI's preferences directly.
var _ PrefsStore = (*account.Profile)(nil)
