package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// secAction is an entry of the OTR status menu.
type secAction int

const (
	actStart secAction = iota // start or refresh
	actEnd
	actAuthenticate
	actFingerprints
	actHelp
	actUseOTR   // talk OTR with this contact although it has OMEMO
	actUseOMEMO // undo actUseOTR
)

// statusLook is how a security level is shown: words AND colour, so the
// state is clear to colour-blind users and in screenshots.
type statusLook struct {
	Text       string
	Importance widget.Importance
	Color      fyne.ThemeColorName
	Icon       fyne.Resource
}

func lookOf(l account.Security) statusLook {
	switch l {
	case account.Unverified:
		return statusLook{"Unverified", widget.WarningImportance, theme.ColorNameWarning, lockIcon}
	case account.Private:
		return statusLook{"Private", widget.SuccessImportance, theme.ColorNameSuccess, lockIcon}
	case account.Finished:
		return statusLook{"Finished", widget.MediumImportance, theme.ColorNameDisabled, lockOpenIcon}
	default:
		return statusLook{"Not private", widget.DangerImportance, theme.ColorNameError, lockOpenIcon}
	}
}

// statusButton is the OTR status button shown on every conversation; a
// tap opens the security menu.
type statusButton struct {
	*widget.Button
	level    account.Security
	protocol string // "OMEMO" or "OTR" ("" = OTR)
	// otrChosen: the user chose OTR for this contact (UseOMEMO false);
	// the menu then offers OMEMO back.
	otrChosen bool
	onAction  func(secAction)
	menu      *widget.PopUpMenu // last menu shown (tests look at it)
}

func newStatusButton(onAction func(secAction)) *statusButton {
	s := &statusButton{onAction: onAction}
	s.Button = widget.NewButton("", s.showMenu)
	s.setLevel(account.NotPrivate)
	return s
}

func (s *statusButton) setLevel(l account.Security) { s.setSecurity(l, s.protocol) }

// setSecurity shows the level and, for OMEMO while encrypted, the
// protocol: "Private (OMEMO)". OTR, the default, is not named.
func (s *statusButton) setSecurity(l account.Security, protocol string) {
	s.level, s.protocol = l, protocol
	look := lookOf(l)
	s.Button.SetText(withProtocol(look.Text, l, protocol))
	s.Button.SetIcon(look.Icon)
	s.Button.Importance = look.Importance
	s.Button.Refresh()
}

// isOMEMO: the conversation's protocol is OMEMO.
func isOMEMO(protocol string) bool { return protocol == "OMEMO" }

// withProtocol appends "(OMEMO)" to a level's word while the
// conversation is encrypted with OMEMO.
func withProtocol(text string, l account.Security, protocol string) string {
	if isOMEMO(protocol) && l != account.NotPrivate {
		return text + " (OMEMO)"
	}
	return text
}

// menuItems lists the security actions, enabled per state:
//   - Start/Refresh: always (it is how you leave Not private and Finished);
//   - End: whenever OTR is or was active (not in Not private);
//   - Authenticate: only while encrypted (Unverified, Private), since SMP
//     runs inside the encrypted session;
//   - Fingerprints and What's this?: always.
//
// With OMEMO there is no session to refresh (each message is encrypted
// for the contact's devices as they are listed now) and no secret
// question: Authenticate compares the fingerprint of every device.
func (s *statusButton) menuItems() []*fyne.MenuItem {
	omemo := isOMEMO(s.protocol)
	startLabel := "Start private conversation"
	switch s.level {
	case account.Unverified, account.Private:
		startLabel = "Refresh private conversation"
		if omemo {
			startLabel = "Check for new devices"
		}
	case account.Finished:
		startLabel = "Restart private conversation"
	}
	act := func(a secAction) func() {
		return func() {
			if s.onAction != nil {
				s.onAction(a)
			}
		}
	}
	start := fyne.NewMenuItem(startLabel, act(actStart))
	end := fyne.NewMenuItem("End private conversation", act(actEnd))
	end.Disabled = s.level == account.NotPrivate
	authLabel := "Authenticate buddy…"
	if omemo {
		authLabel = "Compare device fingerprints…"
	}
	auth := fyne.NewMenuItem(authLabel, act(actAuthenticate))
	auth.Disabled = s.level != account.Unverified && s.level != account.Private
	fps := fyne.NewMenuItem("Fingerprints…", act(actFingerprints))
	help := fyne.NewMenuItem("What's this?", act(actHelp))
	items := []*fyne.MenuItem{start, end, fyne.NewMenuItemSeparator(), auth, fps, fyne.NewMenuItemSeparator(), help}
	switch {
	case omemo:
		items = append(items, fyne.NewMenuItem("Use OTR with this contact instead", act(actUseOTR)))
	case s.otrChosen:
		items = append(items, fyne.NewMenuItem("Use OMEMO with this contact again", act(actUseOMEMO)))
	}
	if s.level != account.NotPrivate {
		// Which protocol protects this chat, first and greyed: it is
		// information, not an action.
		name := "Off-the-Record (OTR)"
		if omemo {
			name = "OMEMO"
		}
		info := fyne.NewMenuItem("Encrypted with "+name, nil)
		info.Disabled = true
		items = append([]*fyne.MenuItem{info, fyne.NewMenuItemSeparator()}, items...)
	}
	return items
}

func (s *statusButton) showMenu() {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.Button)
	if c == nil {
		return
	}
	s.menu = widget.NewPopUpMenu(fyne.NewMenu("", s.menuItems()...), c)
	s.menu.ShowAtRelativePosition(fyne.NewPos(0, s.Button.Size().Height), s.Button)
}

// showPrivacyHelp explains the four states in plain words.
func showPrivacyHelp(w fyne.Window) {
	text := "Not private (red): messages travel unencrypted; your server and others can read them.\n\n" +
		"Unverified (amber): messages are encrypted, but you have not checked that you are talking to " +
		"the right person. Use Authenticate buddy to check.\n\n" +
		"Private (green): messages are encrypted and your contact's identity is verified.\n\n" +
		"Finished (grey): your contact ended the private conversation. Nothing you type is sent until " +
		"you restart it or end it too.\n\n" +
		"Sotto uses OMEMO with contacts whose apps publish OMEMO devices (Conversations, Dino, Gajim…): " +
		"each of their phones and computers has its own fingerprint, and Private means you verified them all. " +
		"With everyone else it uses Off-the-Record (OTR) messaging: only you and your contact can read private " +
		"messages, and nobody can prove afterwards what either of you said."
	d := dialog.NewCustom("What do these colours mean?", "Got it", wrapLabel(text), w)
	d.Resize(fyne.NewSize(480, 420))
	d.Show()
}
