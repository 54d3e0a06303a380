package ui

import (
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// setSecurity applies a SecurityChanged event to a conversation: status
// button, tab icon, bars, and a system line for every change.
func (v *convView) setSecurity(e account.SecurityChanged) {
	prev := v.sec
	v.sec = e
	if e.Conv.Resource != "" {
		v.conv.Resource = e.Conv.Resource
	}
	// Our own check just verified the peer: its result line (next) says
	// so, in one line.
	byOurCheck := !isOMEMO(e.Protocol) && v.asking && prev.Level == account.Unverified && e.Level == account.Private &&
		prev.Fingerprint == e.Fingerprint
	if !byOurCheck {
		for _, l := range securityLines(prev, e, v.peerName()) {
			v.system(l.text, l.imp)
		}
	}
	v.applySecurity()
	if e.KeyChanged {
		v.showKeyChanged()
	}
	if v.omemoAuth != nil {
		v.omemoAuth.reload() // a device or its trust changed
	}
}

// applySecurity shows v.sec on the button, the tab and the bars.
func (v *convView) applySecurity() {
	look := lookOf(v.sec.Level)
	v.status.setSecurity(v.sec.Level, v.sec.Protocol)
	v.tab.Icon = look.Icon
	if v.sec.Level != account.NotPrivate {
		// Private again (or the peer's own end): the choice is moot.
		v.endedByUs = false
		v.plainChoice.hide()
	}
	if v.sec.Level == account.Finished {
		v.finished.show(v.finishedText())
		v.input.SetPlaceHolder("Restart or end the private conversation to send")
	} else {
		v.finished.hide()
		v.input.SetPlaceHolder("Write a message…")
	}
	// The key-change warning has its own Authenticate button; one
	// prompt at a time.
	omemo := isOMEMO(v.sec.Protocol)
	// No shared secret with OMEMO (SMP is OTR's): compare fingerprints.
	if omemo {
		v.hintSecretRow.Hide()
		v.hintCompareRow.Show()
	} else {
		v.hintSecretRow.Show()
		v.hintCompareRow.Hide()
	}
	if v.sec.Level == account.Unverified && v.hintDismissed != hintKey(v.sec) && !v.sec.KeyChanged {
		n := v.peerName()
		if omemo {
			v.authHint.show("Encrypted with OMEMO, but not all of " + n + "'s devices are verified: " +
				"compare their fingerprints with " + n + ".")
		} else {
			v.authHint.show("Encrypted, but not verified yet: make sure this is really " + n + ".")
		}
	} else {
		v.authHint.hide()
	}
	// The key warning stays until the contact is verified again or the
	// encrypted session is gone.
	if v.sec.Level == account.Private || v.sec.Level == account.NotPrivate {
		v.keyWarn.hide()
	}
	if v.u.chats.tabs != nil {
		v.u.chats.tabs.Refresh()
	}
}

// hintKey is what a dismissed Unverified hint stays dismissed for: the
// OTR key, or the OMEMO conversation (its devices have one each).
func hintKey(e account.SecurityChanged) string { return e.Protocol + " " + e.Fingerprint }

func (v *convView) finishedText() string {
	return v.peerName() + " ended the private conversation. Nothing you type is sent until you choose:"
}

type sysLine struct {
	text string
	imp  widget.Importance
}

// securityLines are the system lines for a change from prev to e, in the
// words Pidgin-OTR users know: one line per change (a new conversation
// with a key never seen before is one "started" line; the banner below
// says what to do about it).
func securityLines(prev, e account.SecurityChanged, n string) []sysLine {
	if isOMEMO(e.Protocol) {
		return omemoLines(prev, e, n)
	}
	var out []sysLine
	add := func(t string, imp widget.Importance) { out = append(out, sysLine{t, imp}) }
	switch e.Level {
	case account.Unverified:
		if prev.Level == account.Unverified && prev.Fingerprint == e.Fingerprint {
			add("Successfully refreshed the unverified conversation with "+n+".", widget.WarningImportance)
		} else {
			add("Unverified conversation with "+n+" started.", widget.WarningImportance)
		}
	case account.Private:
		switch {
		case prev.Level == account.Private && prev.Fingerprint == e.Fingerprint:
			add("Successfully refreshed the private conversation with "+n+".", widget.SuccessImportance)
		case prev.Level == account.Unverified && prev.Fingerprint == e.Fingerprint:
			add(n+" is verified. The conversation is now private.", widget.SuccessImportance)
		default:
			add("Private conversation with "+n+" started.", widget.SuccessImportance)
		}
	case account.Finished:
		add(n+" ended the private conversation — end it or restart it.", widget.MediumImportance)
	case account.NotPrivate:
		if prev.Level != account.NotPrivate {
			add("Private conversation with "+n+" ended. Messages are no longer encrypted.", widget.DangerImportance)
		}
	}
	started := len(out) > 0 && prev.Level != e.Level
	if e.NewFingerprint && e.Level != account.NotPrivate && !started {
		add(n+" is contacting you from an unrecognized computer. You should authenticate this buddy.", widget.WarningImportance)
	}
	if e.KeyChanged {
		add("Warning: "+n+"'s key has changed since you verified it.", widget.DangerImportance)
	}
	// The account layer's Reason repeats these lines in its own terse
	// words; it is shown only for a change the lines above do not cover.
	if e.Reason != "" && len(out) == 0 {
		add(e.Reason, widget.MediumImportance)
	}
	return out
}

// omemoLines are securityLines for an OMEMO conversation: the same four
// words, the protocol named. There is no session to refresh, and no one
// key: a repeated level says nothing more than the account's reason.
func omemoLines(prev, e account.SecurityChanged, n string) []sysLine {
	var out []sysLine
	add := func(t string, imp widget.Importance) { out = append(out, sysLine{t, imp}) }
	same := prev.Level == e.Level && isOMEMO(prev.Protocol)
	switch e.Level {
	case account.Unverified:
		switch {
		case same:
		case prev.Level == account.Private && isOMEMO(prev.Protocol):
			add("Unverified conversation with "+n+" (OMEMO): not all of "+n+"'s devices are verified.",
				widget.WarningImportance)
		default:
			add("Unverified conversation with "+n+" started (OMEMO).", widget.WarningImportance)
		}
	case account.Private:
		switch {
		case same:
		case prev.Level == account.Unverified && isOMEMO(prev.Protocol):
			add("All of "+n+"'s devices are verified. The conversation is now private (OMEMO).", widget.SuccessImportance)
		default:
			add("Private conversation with "+n+" started (OMEMO).", widget.SuccessImportance)
		}
	case account.Finished:
		if !same {
			add(n+" ended the private conversation (OMEMO) — end it or restart it.", widget.MediumImportance)
		}
	case account.NotPrivate:
		if prev.Level != account.NotPrivate {
			add("Private conversation with "+n+" ended (OMEMO). Messages are no longer encrypted.", widget.DangerImportance)
		}
	}
	if e.KeyChanged {
		add("Warning: "+n+" has a new device you have not verified. It gets none of your messages until you verify it.",
			widget.DangerImportance)
	}
	if e.Reason != "" && len(out) == 0 {
		add(e.Reason, widget.MediumImportance)
	}
	return out
}

// smpResultLine is the system line for an authentication result.
func smpResultLine(n string, e account.SMPResult) (string, widget.Importance) {
	switch e.Outcome {
	case account.SMPSucceeded:
		if e.WeAsked {
			return "Authentication succeeded: " + n + " is verified.", widget.SuccessImportance
		}
		return n + " has verified you.", widget.SuccessImportance
	case account.SMPFailed:
		if e.WeAsked {
			return "Authentication of " + n + " failed: the answer did not match.", widget.DangerImportance
		}
		return n + " tried to verify you, but the answers did not match.", widget.DangerImportance
	case account.SMPCheated:
		return "Authentication failed: " + n + "'s reply was not valid. Someone may be interfering.", widget.DangerImportance
	default:
		return "Authentication was cancelled.", widget.MediumImportance
	}
}
