//go:build scenes

package ui

// Scenes for `make screenshot`: the real windows, on the real GL driver
// under Xvfb, each put into one state so a screenshot can show it. Built
// only with -tags scenes (internal/cmd/scenes); never part of the app.

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"

	"github.com/sotto-im/sotto/account"
)

// Scenes lists the scene names RunScene knows, in screenshot order.
var Scenes = []string{"wizard", "wizard-key", "roster", "chat-notprivate", "chat-unverified",
	"chat-private", "chat-finished", "authenticate", "smp-question", "fingerprints", "preferences",
	"account-settings"}

const (
	sceneMe  = "alice@example.org"
	sceneBob = "bob@example.org"
	sceneFP  = "3F2A9C1B 77D04E51 A9C3B2D0 0F1E2D3C 4B5A6978"
)

var sceneConv = account.Conversation{Account: sceneMe, Peer: sceneBob, Resource: "laptop"}

// SetSceneTheme pins u's theme ("light" or "dark") as the Preferences
// window would, without storing it.
func SetSceneTheme(u *UI, name string) {
	u.state.Theme = name
	applyTheme(u.app, name)
}

// RunScene builds scene name on u (made with New on a real app). It must
// be called on the Fyne goroutine, e.g. from a fyne.Do after the app
// started. The window it shows is titled with "Sotto".
func RunScene(u *UI, name string) error {
	at := time.Date(2026, 11, 26, 9, 41, 0, 0, time.Local)
	if name == "wizard" || name == "wizard-key" {
		u.showWizard()
		if name == "wizard-key" {
			u.wizard.jid.SetText(sceneMe)
			u.wizard.password.SetText("correct horse battery staple")
			u.wizard.createAccount()
		}
		return nil
	}
	sceneRoster(u)
	switch name {
	case "roster":
		// An unread message in the background shows the unread count.
		u.foreground = false
		u.Handle(account.MessageReceived{Conv: account.Conversation{Account: sceneMe, Peer: "carol@example.org"}, Body: "see you at 8?", Encrypted: true})
		u.foreground = true
		u.chats.hide()
		u.roster.show()
		return nil
	case "fingerprints":
		u.showFingerprints("")
		return nil
	case "preferences":
		u.showPrefs()
		return nil
	case "account-settings":
		// The dialog sits on the roster window; the warning shows what
		// ticking "Allow connecting without encryption" looks like.
		u.roster.show()
		u.roster.showAccountSettings(sceneMe)
		u.roster.acctDlg.server.SetText("xmpp.example.org")
		u.roster.acctDlg.insecure.set(true)
		return nil
	}
	// An incoming message opens the chat as it does in the app (a chat the
	// user opens would also start OTR, which needs a server).
	u.Handle(account.MessageReceived{Conv: sceneConv, Body: "Hi Alice! Got a minute?", Time: at})
	v := u.chats.open(sceneConv, true)
	u.chats.win.Resize(fyne.NewSize(720, 560))
	level := map[string]account.Security{"chat-notprivate": account.NotPrivate, "chat-unverified": account.Unverified,
		"chat-private": account.Private, "chat-finished": account.Finished, "authenticate": account.Unverified,
		"smp-question": account.Unverified}
	lv, ok := level[name]
	if !ok {
		return fmt.Errorf("ui: no scene %q (have %v)", name, Scenes)
	}
	if lv != account.NotPrivate {
		u.Handle(account.SecurityChanged{Conv: sceneConv, Level: account.Unverified, Fingerprint: sceneFP, NewFingerprint: true})
		u.Handle(account.MessageReceived{Conv: sceneConv, Body: "This one is encrypted. Shall we check it's really us?", Encrypted: true, Time: at.Add(time.Minute)})
		u.Handle(account.MessageStateChanged{Conv: sceneConv, ID: "s1", Body: "Sure — ask me something only I know.", State: account.SentEncrypted, Time: at.Add(2 * time.Minute)})
	} else {
		u.Handle(account.MessageStateChanged{Conv: sceneConv, ID: "s1", Body: "Hi Bob, in a meeting, back soon.", State: account.SentPlain, Time: at.Add(time.Minute)})
	}
	switch lv {
	case account.Private:
		u.Handle(account.SMPResult{Conv: sceneConv, Outcome: account.SMPSucceeded, WeAsked: true})
		u.Handle(account.SecurityChanged{Conv: sceneConv, Level: account.Private, Fingerprint: sceneFP, Verified: true})
	case account.Finished:
		u.Handle(account.SecurityChanged{Conv: sceneConv, Level: account.Finished, Fingerprint: sceneFP})
	}
	switch name {
	case "authenticate":
		v.openAuth()
	case "smp-question":
		u.Handle(account.SMPRequested{Conv: sceneConv, Question: "Where did we first meet?"})
	}
	return nil
}

// sceneRoster fills the roster with a connected account and some friends.
func sceneRoster(u *UI) {
	online := func(show account.Show, status string) []account.Resource {
		return []account.Resource{{Name: "laptop", Show: show, Status: status}}
	}
	contacts := []account.Contact{
		{JID: sceneBob, Name: "Bob", Groups: []string{"Friends"}, Subscription: "both", Resources: online(account.Available, "Working from home")},
		{JID: "carol@example.org", Name: "Carol", Groups: []string{"Friends"}, Subscription: "both", Resources: online(account.Away, "Lunch")},
		{JID: "dave@example.org", Name: "Dave", Groups: []string{"Friends"}, Subscription: "both"},
		{JID: "erin@example.net", Name: "Erin", Groups: []string{"Work"}, Subscription: "both", Resources: online(account.DND, "In a meeting until 11")},
		{JID: "frank@example.net", Name: "Frank", Groups: []string{"Work"}, Subscription: "both", Resources: online(account.Available, "")},
		{JID: "grace@example.net", Name: "Grace", Groups: []string{"Work"}, Subscription: "to", Pending: true},
	}
	u.Handle(account.ConnectionChanged{Account: sceneMe, State: account.Connected})
	u.Handle(account.RosterChanged{Account: sceneMe, Contacts: contacts})
	u.Handle(account.SubscriptionRequest{Account: sceneMe, From: "heidi@example.com"})
}
