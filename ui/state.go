package ui

// The UI's own state between runs: theme, roster window size and which
// chats are open (never their text). The UI owns this type and its JSON
// encoding; the store (PrefsStore, the profile's ui.json) keeps the bytes
// without reading them.

import (
	"encoding/json"

	"fyne.io/fyne/v2"

	"github.com/sotto-im/sotto/account"
)

// uiStateVersion is written with the state. A state from a newer Sotto is
// read as far as it goes (unknown fields are ignored) and rewritten in
// this format when something changes.
const uiStateVersion = 1

// uiState is what the UI remembers. The field names are those of the
// account.Prefs fields they replace, so the profile can hand an old
// prefs.json's values over once (account.Profile.UIState).
type uiState struct {
	Version int
	// Theme is "system", "light" or "dark".
	Theme            string
	WindowW, WindowH float32
	// ChatW, ChatH: the chat window's size (0 = the default).
	ChatW, ChatH float32 `json:",omitempty"`
	// OpenChats are reopened at start-up, in tab order.
	OpenChats []openChat
}

// openChat is one chat to reopen.
type openChat struct{ Account, Peer string }

func (c openChat) conv() account.Conversation {
	return account.Conversation{Account: c.Account, Peer: c.Peer}
}

// decodeState reads a stored state; nil or damaged bytes give the
// defaults (a damaged state costs only the theme, the size and the chats).
func decodeState(b []byte) uiState {
	var s uiState
	if len(b) > 0 {
		if err := json.Unmarshal(b, &s); err != nil {
			fyne.LogError("ui: reading the saved window state", err)
			s = uiState{}
		}
	}
	if s.Theme == "" {
		s.Theme = "system"
	}
	return s
}

// saveState stores u.state.
func (u *UI) saveState() {
	u.state.Version = uiStateVersion
	b, err := json.Marshal(u.state)
	if err == nil {
		err = u.store.SetUIState(b)
	}
	if err != nil {
		fyne.LogError("ui: saving the window state", err)
	}
}

// memStore keeps preferences for this run only (Options.Prefs nil).
type memStore struct {
	prefs account.Prefs
	ui    []byte
}

func (m *memStore) Prefs() account.Prefs            { return m.prefs }
func (m *memStore) SavePrefs(p account.Prefs) error { m.prefs = p; return nil }
func (m *memStore) UIState() []byte                 { return m.ui }
func (m *memStore) SetUIState(b []byte) error       { m.ui = append([]byte(nil), b...); return nil }
