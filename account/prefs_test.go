package account

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// oldPrefs is a prefs.json written before the UI kept its own state.
const oldPrefs = `{
	"Version": 1,
	"Prefs": {
		"DefaultPolicy": 2,
		"PlainHistory": true,
		"Theme": "dark",
		"WindowW": 420,
		"WindowH": 700,
		"OpenChats": [{"Account": "alice@example.org", "Peer": "bob@example.net", "Resource": ""}]
	}
}
`

// An old prefs.json still loads; its UI fields are handed to the UI until
// it stores its own state, and are written to the UI's file before
// SavePrefs rewrites prefs.json without them.
func TestProfileOldPrefsMigrateUIState(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, prefsFile), []byte(oldPrefs), 0o600); err != nil {
		t.Fatal(err)
	}
	p := openTestProfile(t, dir)
	if !p.Prefs().PlainHistory {
		t.Error("PlainHistory of an old prefs.json lost")
	}
	want := map[string]any{"Theme": "dark", "WindowW": 420.0, "WindowH": 700.0,
		"OpenChats": []any{map[string]any{"Account": "alice@example.org", "Peer": "bob@example.net", "Resource": ""}}}
	decode := func(b []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("UI state %q: %v", b, err)
		}
		return m
	}
	if got := decode(p.UIState()); !reflect.DeepEqual(got, want) {
		t.Errorf("migrated UI state = %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, uiStateFile)); err == nil {
		t.Error("opening the profile wrote the UI's file")
	}
	if err := p.SavePrefs(Prefs{PlainHistory: false}); err != nil {
		t.Fatal(err)
	}
	q := openTestProfile(t, dir)
	if q.Prefs().PlainHistory {
		t.Error("PlainHistory not saved")
	}
	if got := decode(q.UIState()); !reflect.DeepEqual(got, want) {
		t.Errorf("UI state after SavePrefs and reopen = %v, want %v", got, want)
	}
	checkModes(t, dir)
}

// The UI's state is stored verbatim in its own file, 0600, and wins over
// an old prefs.json.
func TestProfileUIState(t *testing.T) {
	dir := t.TempDir()
	p := openTestProfile(t, dir)
	if p.UIState() != nil {
		t.Errorf("new profile has UI state %q", p.UIState())
	}
	blob := []byte(`{"Theme":"light"}`)
	if err := p.SetUIState(blob); err != nil {
		t.Fatal(err)
	}
	blob[2] = 'X' // the profile keeps its own copy
	if err := os.WriteFile(filepath.Join(dir, prefsFile), []byte(oldPrefs), 0o600); err != nil {
		t.Fatal(err)
	}
	q := openTestProfile(t, dir)
	if got := string(q.UIState()); got != `{"Theme":"light"}` {
		t.Errorf("UI state = %q", got)
	}
	if err := q.SetUIState(make([]byte, maxProfileFile+1)); err == nil {
		t.Error("oversized UI state accepted")
	}
	checkModes(t, dir)
}
