package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// convView is one conversation tab: header with the OTR status button,
// security bars, the message list and the input.
type convView struct {
	u    *UI
	conv account.Conversation
	sec  account.SecurityChanged

	tab    *container.TabItem
	name   *widget.Label
	sub    *widget.Label
	status *statusButton
	msgs   *messageList
	input  *widget.Entry
	// typing shows the peer's chat state; composing is what we last
	// told the peer (signals.go).
	typing    *widget.Label
	composing bool
	send      *widget.Button
	finished  *banner // peer ended OTR: restart or end
	// plainChoice: we ended the private conversation ourselves; the
	// first plain send waits for an explicit choice (endedByUs).
	plainChoice *banner
	endedByUs   bool
	// buttons of the plain choice (kept for tests)
	sendPlainBtn, againBtn *widget.Button
	keyWarn                *banner // verified contact, different key
	authHint               *banner // Unverified: offer to authenticate
	// hintDismissed is the fingerprint the user dismissed the hint for.
	hintDismissed string
	// hintSecretRow is the hint's shared-secret row (OTR only);
	// hintCompare opens the device list instead (OMEMO).
	hintSecretRow, hintCompareRow *fyne.Container
	hintCompare                   *widget.Button
	// omemoAuth is the open OMEMO device check (omemoauth.go).
	omemoAuth *omemoAuthDialog
	auth      *authDialog
	// buttons of the Finished bar and the hint (kept for tests)
	restartBtn, endBtn, hintBtn *widget.Button
	// hintSecret verifies in one step from the Unverified hint.
	hintSecret *widget.Entry
	hintVerify *widget.Button
	// localSeq numbers our unsent lines (see submit).
	localSeq int
	// asking: our shared-secret check of the peer is under way. Its
	// result line says the peer is verified, so the level change it
	// causes adds no second line.
	asking bool
	// verifiedUs: the peer verified us in this conversation, so nobody
	// is told to verify the other once we verified them too.
	verifiedUs bool
}

func newConvView(u *UI, conv account.Conversation) *convView {
	v := &convView{u: u, conv: conv, msgs: newMessageList(func(f func()) { u.post(f) })}
	v.msgs.onAct = v.lineAction
	v.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.sub = widget.NewLabel("")
	v.sub.Importance = widget.LowImportance
	v.sub.Truncation = fyne.TextTruncateEllipsis
	v.status = newStatusButton(v.action)
	v.loadProtocolChoice()

	v.restartBtn = widget.NewButtonWithIcon("Restart private conversation", lockIcon, v.startPrivate)
	v.restartBtn.Importance = widget.HighImportance
	v.endBtn = widget.NewButton("End (send unencrypted)", v.endPrivate)
	v.finished = newBanner(theme.ColorNameDisabled, theme.InfoIcon(), nil, v.endBtn, v.restartBtn)
	v.sendPlainBtn = widget.NewButton("Send unencrypted", v.sendPlainAnyway)
	v.againBtn = widget.NewButtonWithIcon("Start private again", lockIcon, func() {
		v.plainChoice.hide()
		v.startPrivate()
	})
	v.againBtn.Importance = widget.HighImportance
	v.plainChoice = newBanner(theme.ColorNameWarning, theme.WarningIcon(), nil, v.sendPlainBtn, v.againBtn)
	reauth := widget.NewButtonWithIcon("Authenticate "+v.peerName(), theme.ConfirmIcon(), v.openAuth)
	reauth.Importance = widget.DangerImportance
	v.keyWarn = newBanner(theme.ColorNameError, theme.ErrorIcon(), func() { v.keyWarn.hide() }, reauth)
	v.hintBtn = widget.NewButton("More ways…", v.openAuth)
	v.authHint = newBanner(theme.ColorNameWarning, theme.WarningIcon(), func() {
		v.hintDismissed = hintKey(v.sec)
		v.authHint.hide()
	})
	// The quickest check is a secret both people know: typed right here,
	// it is one step (see quickVerify).
	v.hintSecret = widget.NewPasswordEntry()
	v.hintSecret.SetPlaceHolder("A secret only you and " + v.peerName() + " know")
	v.hintSecret.OnSubmitted = func(string) { v.quickVerify() }
	v.hintVerify = widget.NewButtonWithIcon("Verify", theme.ConfirmIcon(), v.quickVerify)
	v.hintVerify.Importance = widget.HighImportance
	v.hintSecretRow = container.NewBorder(nil, nil, nil, container.NewHBox(v.hintVerify, v.hintBtn), v.hintSecret)
	v.authHint.rows.Add(v.hintSecretRow)
	// With OMEMO the check is comparing each device's fingerprint.
	v.hintCompare = widget.NewButtonWithIcon("Compare fingerprints…", theme.ConfirmIcon(), v.openAuth)
	v.hintCompare.Importance = widget.HighImportance
	v.hintCompareRow = container.NewHBox(layout.NewSpacer(), v.hintCompare)
	v.hintCompareRow.Hide()
	v.authHint.rows.Add(v.hintCompareRow)

	v.input = widget.NewEntry()
	v.input.SetPlaceHolder("Write a message…")
	v.input.OnSubmitted = func(string) { v.submit() }
	v.input.OnChanged = v.inputChanged // signals.go
	v.typing = newTypingLabel()
	v.send = widget.NewButtonWithIcon("", theme.MailSendIcon(), v.submit)
	v.send.Importance = widget.HighImportance

	header := container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), container.NewCenter(v.status.Button),
		container.NewVBox(v.name, v.sub))
	top := container.NewVBox(header, widget.NewSeparator(), v.keyWarn.box, v.authHint.box)
	bottom := container.NewVBox(v.typing, v.finished.box, v.plainChoice.box, container.NewBorder(nil, nil, nil, v.send, v.input))
	content := container.NewPadded(container.NewBorder(top, bottom, nil, nil, v.msgs.view))
	v.tab = container.NewTabItemWithIcon("", lockOpenIcon, content)

	v.sec = u.chats.initialSecurity(conv)
	if v.sec.Level != account.NotPrivate && v.sec.Conv.Resource != "" {
		// Send to the session whose level the tab shows, not to the
		// resource whose message happened to open it (chat.go get).
		v.conv.Resource = v.sec.Conv.Resource
	}
	v.applySecurity()
	v.updateTitle()
	v.loadHistory()
	return v
}

func (v *convView) peerName() string { return v.u.name(v.conv.Account, v.conv.Peer) }

func (v *convView) updateTitle() {
	n := v.peerName()
	v.name.SetText(n)
	sub := v.conv.Peer
	if c, ok := v.u.contact(v.conv.Account, v.conv.Peer); ok {
		sub += " · " + c.Show().String()
		if st := c.Status(); st != "" {
			sub += " — " + st
		}
	}
	v.sub.SetText(sub)
	v.tab.Text = tabTitle(n, v.u.chats.unreadFor(v.conv.Account, v.conv.Peer))
	if v.u.chats.tabs != nil {
		v.u.chats.tabs.Refresh()
	}
}

func (v *convView) focusInput() {
	if w := v.u.chats.win; w != nil {
		w.Canvas().Focus(v.input)
	}
}

func (v *convView) window() fyne.Window {
	v.u.chats.ensureWindow()
	return v.u.chats.win
}

// system adds a system line (security changes, notices, SMP results).
func (v *convView) system(text string, imp widget.Importance) {
	v.msgs.add(chatLine{kind: lineSystem, when: v.u.opts.Now(), body: text, imp: imp})
}

func (v *convView) addIncoming(e account.MessageReceived) {
	when := e.Time
	if when.IsZero() {
		when = v.u.opts.Now()
	}
	v.setTyping("") // a message ends "typing…"
	if e.OtherEncryption != "" {
		// Its body is a fallback the sender's client wrote, not the
		// peer's words: never shown as a line from them.
		v.msgs.add(chatLine{kind: lineSystem, when: when, body: otherEncryptionText(v.peerName(), e.OtherEncryption),
			imp: widget.WarningImportance})
		return
	}
	v.msgs.add(chatLine{kind: lineIn, when: when, who: v.peerName(), body: e.Body, encrypted: e.Encrypted,
		verified: e.Encrypted && e.Level == account.Private, other: e.OtherSession, protocol: e.Protocol})
}

// submit sends the input. While Finished nothing is sent: the user must
// first restart OTR or end it, so a message meant to be private can never
// go out in plain by accident. The text stays in the input.
func (v *convView) submit() {
	text := strings.TrimSpace(v.input.Text)
	if text == "" {
		return
	}
	if v.sec.Level == account.Finished {
		v.system("Not sent: "+v.peerName()+" ended the private conversation. "+
			"Restart it, or end it to send unencrypted.", widget.DangerImportance)
		v.finished.show(v.finishedText())
		return
	}
	if v.endedByUs && v.sec.Level == account.NotPrivate {
		// After "End private conversation" the next line would go out
		// in plain: ask once, keep the text (End sits next to Refresh
		// in the menu, and a mistaken click must not leak a line).
		v.plainChoice.show("You ended the private conversation. This message would be sent unencrypted.")
		return
	}
	v.composing = false // the message carries "active": clearing the input sends nothing
	v.input.SetText("")
	// The placeholder is found again by a local id, not its index: earlier
	// history lines may be inserted above it meanwhile (history.go).
	v.localSeq++
	local := fmt.Sprintf("%s%d", localPrefix, v.localSeq)
	v.msgs.add(chatLine{kind: lineOut, when: v.u.opts.Now(), who: "You", body: text, pending: true, id: local})
	conv := v.conv
	var id string
	// In order: what is typed first goes on the wire first.
	v.u.doInOrder("send\x00"+conv.Account+"\x00"+conv.Peer, func(ctx context.Context) error {
		var err error
		id, err = v.u.b.Send(ctx, conv, text)
		return err
	}, func(err error) { v.sent(local, id, err) })
}

// sent records Send's result on the placeholder line. If a state event
// for id arrived first, it created its own line: fold it into ours.
func (v *convView) sent(local, id string, err error) {
	i := v.msgs.findID(local)
	if i < 0 {
		return
	}
	l := v.msgs.lines[i]
	l.id = ""
	if err != nil {
		l.pending, l.state, l.reason = false, account.NotSent, plain(err)
		v.msgs.update(i, l)
		return
	}
	l.id = id
	if j := v.msgs.findID(id); j > i {
		early := v.msgs.lines[j]
		l.pending, l.state, l.reason = early.pending, early.state, early.reason
		v.msgs.remove(j)
	}
	v.msgs.update(i, l)
}

func (v *convView) outState(e account.MessageStateChanged) {
	if e.State == account.Queued && e.Reason == "" && v.u.roster.reconnecting(v.conv.Account) {
		// Queued because the account is offline, not because the chat
		// is not private: a green padlock next to "queued until private"
		// contradicted itself (issue 13).
		e.Reason = queuedOffline
	}
	i := v.msgs.findID(e.ID)
	if i < 0 {
		when := e.Time
		if when.IsZero() {
			when = v.u.opts.Now()
		}
		if e.State == account.Delivered {
			return // its line is not shown (any more)
		}
		v.msgs.add(chatLine{kind: lineOut, when: when, who: "You", body: e.Body, id: e.ID,
			state: e.State, reason: e.Reason, kept: e.Kept})
		return
	}
	l := v.msgs.lines[i]
	if e.State == account.Delivered {
		l.delivered = true // how it was sent stays on the line
		v.msgs.update(i, l)
		return
	}
	l.pending, l.state, l.reason, l.kept = false, e.State, e.Reason, e.Kept
	l.gone = false // a new state: its action is real again
	v.msgs.update(i, l)
}

// localPrefix starts the ids of lines Send has not answered for yet.
const localPrefix = "\x00local-"

// lineAction runs a line's action: Resend a NotSent line, Remove a Queued
// one. Resend shows the line as sending at once; the account's state
// events then tell what became of it (sent, queued until private — a line
// that needed privacy never goes in plain — or not sent again). When
// there is nothing to act on any more, the chat says so in plain words
// and the line offers nothing.
func (v *convView) lineAction(id, action string) {
	i := v.msgs.findID(id)
	if i < 0 || v.msgs.lines[i].action() != action {
		return // the line changed since the row was drawn
	}
	l := v.msgs.lines[i]
	l.asking = true
	if action == actResend {
		l.pending = true
	}
	v.msgs.update(i, l)
	conv := v.conv
	v.u.doInOrder("send\x00"+conv.Account+"\x00"+conv.Peer, func(ctx context.Context) error {
		if action == actResend {
			return v.u.b.Resend(ctx, conv, id)
		}
		return v.u.b.RemoveQueued(ctx, conv, id)
	}, func(err error) { v.actionDone(id, action, err) })
}

// actionDone records the answer to lineAction.
func (v *convView) actionDone(id, action string, err error) {
	i := v.msgs.findID(id)
	if i < 0 {
		return
	}
	l := v.msgs.lines[i]
	l.asking = false
	switch {
	case err == nil:
	case action == actResend && errors.Is(err, account.ErrNothingToResend):
		l.pending, l.gone = false, true
		v.system("This message can no longer be resent: Sotto no longer has it waiting (it was sent meanwhile, "+
			"or Sotto was restarted). Copy its text and send it again if it still matters.", widget.WarningImportance)
	case action == actRemove && errors.Is(err, account.ErrNotWaiting):
		l.gone = true
		v.system("This message was no longer waiting, so it could not be removed: it was already on its way.",
			widget.WarningImportance)
	case action == actResend:
		l.pending = false
		v.system("Could not resend the message: "+plain(err), widget.DangerImportance)
	default:
		v.system("Could not remove the message: "+plain(err), widget.DangerImportance)
	}
	v.msgs.update(i, l)
}

// action handles the status menu.
func (v *convView) action(a secAction) {
	switch a {
	case actStart:
		v.startPrivate()
	case actEnd:
		v.endedByUs = true
		v.endPrivate()
	case actAuthenticate:
		v.openAuth()
	case actFingerprints:
		v.u.showFingerprints(v.conv.Peer)
		if isOMEMO(v.sec.Protocol) {
			v.u.fps.tabs.Select(v.u.fps.omemoTab)
		} else {
			v.u.fps.tabs.Select(v.u.fps.otrTab)
		}
	case actHelp:
		showPrivacyHelp(v.window())
	case actUseOTR, actUseOMEMO:
		v.useOMEMO(a == actUseOMEMO)
	}
}

// useOMEMO switches the protocol for this contact; the account says what
// changed with a SecurityChanged (and, for OTR, the chat starts over).
func (v *convView) useOMEMO(use bool) {
	acct, peer := v.conv.Account, v.conv.Peer
	report := v.reportErr("switch the protocol")
	v.u.do(func(ctx context.Context) error { return v.u.b.UseOMEMO(ctx, acct, peer, use) }, func(err error) {
		if err != nil {
			report(err)
			return
		}
		v.status.otrChosen = !use
		if !use {
			v.startPrivate() // OTR now: start it, as the menu's Start would
		}
	})
}

// loadProtocolChoice asks the account whether the user chose OTR for this
// contact (so the menu can offer OMEMO back); an account without OMEMO
// has nothing to say.
func (v *convView) loadProtocolChoice() {
	acct, peer := v.conv.Account, v.conv.Peer
	var uses bool
	v.u.do(func(ctx context.Context) (err error) {
		uses, err = v.u.b.UsesOMEMO(ctx, acct, peer)
		return err
	}, func(err error) {
		if err == nil {
			v.status.otrChosen = !uses
		}
	})
}

func (v *convView) startPrivate() {
	conv := v.conv
	v.u.do(func(ctx context.Context) error { return v.u.b.StartPrivate(ctx, conv) }, v.reportErr("start the private conversation"))
}

func (v *convView) endPrivate() {
	conv := v.conv
	v.u.do(func(ctx context.Context) error { return v.u.b.EndPrivate(ctx, conv) }, v.reportErr("end the private conversation"))
}

// sendPlainAnyway is the user's choice after ending the conversation
// themselves: from now on this chat sends in plain, as any plain chat.
func (v *convView) sendPlainAnyway() {
	v.endedByUs = false
	v.plainChoice.hide()
	v.submit()
}

func (v *convView) reportErr(what string) func(error) {
	return func(err error) {
		if err != nil {
			v.system("Could not "+what+": "+plain(err), widget.DangerImportance)
		}
	}
}

// autoStart starts OTR when a chat is opened with an online contact and
// the conversation's policy (the contact's own, else the account's: asked
// of account, never kept here) is not Manual, so the first message is
// already encrypted.
func (v *convView) autoStart() {
	if v.sec.Level != account.NotPrivate || v.u.b.Policy(v.conv.Account, v.conv.Peer) == account.Manual {
		return
	}
	if c, ok := v.u.contact(v.conv.Account, v.conv.Peer); !ok || c.Show() == account.Offline {
		return
	}
	v.startPrivate()
}

func (v *convView) openAuth() {
	if isOMEMO(v.sec.Protocol) {
		v.openOMEMOAuth()
		return
	}
	if v.auth != nil {
		v.auth.d.Show()
		return
	}
	v.auth = newAuthDialog(v, "")
	v.auth.showAsk()
}

// quickVerify starts a shared-secret check from the Unverified hint; the
// dialog opens on its progress page and shows the result.
func (v *convView) quickVerify() {
	secret := v.hintSecret.Text
	if strings.TrimSpace(secret) == "" {
		v.openAuth()
		return
	}
	v.hintSecret.SetText("")
	if v.auth == nil {
		v.auth = newAuthDialog(v, "")
	}
	v.auth.method.SetSelected(methodSecret)
	v.auth.secret.SetText(secret)
	v.auth.start()
}

func (v *convView) smpRequested(e account.SMPRequested) {
	if v.auth != nil {
		v.auth.d.Hide()
	}
	v.auth = newAuthDialog(v, e.Question)
	v.auth.showAnswer()
}

func (v *convView) smpResult(e account.SMPResult) {
	if e.WeAsked {
		v.asking = false
	} else if e.Outcome == account.SMPSucceeded {
		v.verifiedUs = true
	}
	text, imp := smpResultLine(v.peerName(), e)
	v.system(text, imp)
	if v.auth == nil {
		v.auth = newAuthDialog(v, "")
	}
	v.auth.showResult(e)
}

// showKeyChanged is loud on purpose: a verified contact with a new key
// is either a new device or an attack.
func (v *convView) showKeyChanged() {
	n := v.peerName()
	if isOMEMO(v.sec.Protocol) {
		v.showNewOMEMODevice()
		return
	}
	v.keyWarn.show("Warning: " + n + "'s key has changed. You had verified " + n +
		", but this conversation uses a different key. Someone may be listening in — or " + n +
		" set up a new computer. Do not share anything sensitive until you authenticate " + n + " again.")
	d := dialog.NewCustom("Key changed — "+n, "OK", wrapLabel(n+"'s identity key is not the one you verified.\n\n"+
		"Authenticate "+n+" again before you trust this conversation."), v.window())
	d.SetIcon(theme.NewErrorThemedResource(theme.WarningIcon()))
	d.Resize(fyne.NewSize(420, 220))
	d.Show()
}
