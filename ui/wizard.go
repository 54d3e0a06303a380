package ui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

const storeVault = "A portable vault file, protected by a passphrase"

// wizard is the first-run (and "add account") flow: account → key →
// done, or import from Pidgin. container.Navigation gives it a back
// button.
type wizard struct {
	u   *UI
	win fyne.Window
	nav *container.Navigation

	jid, password, server, port *widget.Entry
	storage                     *widget.RadioGroup
	passphrase, passphrase2     *widget.Entry
	testResult, accountErr      *widget.Label
	testBtn, create             *widget.Button
	registerBtn                 *widget.Button // register.go
	busy                        *widget.ProgressBarInfinite

	keyStatus *widget.Label
	keyBusy   *widget.ProgressBarInfinite
	fp        *widget.Label
	keyDone   *fyne.Container
	retry     *widget.Button
	copyBtn   *widget.Button
	doneBtn   *widget.Button

	// page is the page on screen (container.Navigation does not say;
	// the test-state file reads it).
	page fyne.CanvasObject
	// The certificate question, asked inside the wizard when signing in
	// meets a certificate the system does not trust.
	certBox             *fyne.Container
	certTitle, certText *widget.Label
	trustBtn            *widget.Button
	cert                *account.CertificateQuestion
	afterTrust          func()
	// signingIn is the address being signed in to: the UI drops the
	// CertificateQuestion events it causes (the wizard asks itself).
	signingIn    string
	firstContact *widget.Entry

	importDir    *widget.Entry
	importResult *widget.Label
	imported     []account.Settings
	importPw     []*widget.Entry

	added string // bare JID of the account created
}

func (u *UI) showWizard() {
	if u.wizard == nil {
		u.wizard = newWizard(u)
	}
	u.wizard.win.Show()
	u.wizard.win.RequestFocus()
}

func newWizard(u *UI) *wizard {
	w := &wizard{u: u, win: u.app.NewWindow("Welcome to Sotto")}
	w.page = w.accountPage()
	w.nav = container.NewNavigationWithTitle(w.page, "Add your account")
	// Fyne 2.7.1's Navigation only extends its BaseWidget when its
	// renderer is created, so a Resize before that is lost and the
	// window stays empty until the user resizes it. Extend it now.
	w.nav.ExtendBaseWidget(w.nav)
	w.win.SetContent(w.nav)
	w.win.Resize(fyne.NewSize(560, 620))
	w.win.CenterOnScreen()
	u.addQuit(w.win)
	// Enter does what the page's main button does; Escape declines the
	// certificate. (A focused entry takes Enter itself: OnSubmitted.)
	w.win.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		switch ev.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			w.enter()
		case fyne.KeyEscape:
			if w.cert != nil {
				w.hideCert()
			}
		}
	})
	w.win.Canvas().Focus(w.jid)
	w.win.SetCloseIntercept(func() {
		w.win.Hide()
		u.wizard = nil
		if len(u.b.Accounts()) == 0 {
			u.quit()
		}
	})
	return w
}

func (w *wizard) accountPage() fyne.CanvasObject {
	intro := wrapLabel("Sotto is a chat app for XMPP (Jabber) accounts. It uses Off-the-Record (OTR) " +
		"messaging, so only you and the person you talk to can read your conversations, and you can check " +
		"that it really is them.")
	w.jid = widget.NewEntry()
	w.jid.SetPlaceHolder("you@example.org")
	w.password = widget.NewPasswordEntry()
	w.jid.OnSubmitted = func(string) { w.win.Canvas().Focus(w.password) }
	w.password.OnSubmitted = func(string) { w.createAccount() }
	w.server = widget.NewEntry()
	w.server.SetPlaceHolder("Optional: host name if it differs from the address")
	w.port = widget.NewEntry()
	w.port.SetPlaceHolder("5222")
	adv := widget.NewAccordion(widget.NewAccordionItem("Advanced", widget.NewForm(
		widget.NewFormItem("Server", w.server), widget.NewFormItem("Port", w.port))))
	form := widget.NewForm(widget.NewFormItem("Address", w.jid), widget.NewFormItem("Password", w.password))

	w.testResult = wrapLabel("")
	w.testResult.Hide()
	w.accountErr = wrapLabel("")
	w.accountErr.Importance = widget.DangerImportance
	w.accountErr.Hide()
	w.busy = widget.NewProgressBarInfinite()
	w.busy.Hide()
	w.testBtn = widget.NewButtonWithIcon("Test connection", theme.LoginIcon(), w.testConnection)
	w.create = widget.NewButtonWithIcon("Sign in", theme.NavigateNextIcon(), w.createAccount)
	w.create.Importance = widget.HighImportance
	imp := widget.NewButtonWithIcon("Import from Pidgin…", theme.FolderOpenIcon(), func() {
		w.push(w.importPage(), "Import from Pidgin")
	})
	return container.NewPadded(container.NewVScroll(container.NewVBox(
		intro, form, adv, w.storagePicker(), w.busy, w.testResult, w.accountErr, w.certPanel(),
		container.NewHBox(imp, w.registerButton(), layoutSpacer(), w.testBtn, w.create))))
}

// certPanel is the certificate question, hidden until signing in meets
// an untrusted certificate: the fingerprint and one Trust button.
func (w *wizard) certPanel() fyne.CanvasObject {
	w.certTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.certText = wrapLabel("")
	w.trustBtn = widget.NewButtonWithIcon("Trust", theme.ConfirmIcon(), w.trust)
	w.trustBtn.Importance = widget.HighImportance
	w.certBox = container.NewVBox(widget.NewSeparator(), w.certTitle, w.certText,
		container.NewHBox(layoutSpacer(), widget.NewButton("Don't trust", w.hideCert), w.trustBtn))
	w.certBox.Hide()
	return w.certBox
}

// askCert shows the certificate question; then runs after Trust.
func (w *wizard) askCert(q account.CertificateQuestion, then func()) {
	w.cert, w.afterTrust = &q, then
	say(w.testResult, widget.MediumImportance, "")
	w.certTitle.SetText("Do you trust this server's certificate?")
	msg := "The server for " + q.Account + " presented a certificate your system does not know. " +
		"That is normal for a private server. Trust it only if this fingerprint is the one " +
		"its administrator gave you:\n\nSHA-256: " + groupFingerprint(q.Fingerprint)
	w.trustBtn.Importance = widget.HighImportance
	if q.Changed {
		w.certTitle.SetText("WARNING: the server's certificate has changed")
		msg = "The server for " + q.Account + " presented a DIFFERENT certificate than last time. " +
			"Someone may be intercepting your connection. Trust the new one only if your server " +
			"administrator told you it changed.\n\nSHA-256: " + groupFingerprint(q.Fingerprint)
		w.trustBtn.Importance = widget.DangerImportance
	}
	w.certText.SetText(msg)
	w.certBox.Show()
	w.trustBtn.Refresh()
	w.win.Canvas().Unfocus() // Enter now means Trust
}

func (w *wizard) hideCert() {
	w.cert, w.afterTrust = nil, nil
	w.certBox.Hide()
}

// trust pins the certificate, then carries on with what asked.
func (w *wizard) trust() {
	q, then := w.cert, w.afterTrust
	if q == nil {
		return
	}
	w.hideCert()
	w.setBusy(true)
	w.u.do(func(ctx context.Context) error {
		return w.u.b.TrustCertificate(ctx, q.Account, q.Fingerprint)
	}, func(err error) {
		w.setBusy(false)
		if err != nil {
			say(w.accountErr, widget.DangerImportance, "Could not trust the certificate: "+plain(err))
			return
		}
		if then != nil {
			then()
		}
	})
}

// enter is the Enter key outside an entry.
func (w *wizard) enter() {
	switch {
	case w.cert != nil:
		w.trust()
	case w.keyDone != nil && w.keyDone.Visible():
		w.finish()
	case w.keyStatus == nil && !w.create.Disabled():
		w.createAccount()
	}
}

// loginFailed explains a failed sign-in and says what to do; ok is false
// when the certificate question was shown instead (retry runs after
// Trust).
func (w *wizard) loginFailed(s account.Settings, err error, retry func()) string {
	var ce *account.CertificateError
	switch {
	case errors.As(err, &ce):
		w.askCert(ce.Question, retry)
		return ""
	case errors.Is(err, account.ErrPasswordRefused):
		w.win.Canvas().Focus(w.password)
		w.password.SetText("")
		return "The server refused the password for " + s.JID + ". Type it again."
	}
	return "Could not sign in: " + plain(err)
}

// storagePicker says where keys are kept. With Options.UseVault (portable
// mode, where the keyring of the computer at hand must not be used) it
// asks for the passphrase of the vault that will hold them.
func (w *wizard) storagePicker() fyne.CanvasObject {
	if w.u.opts.UseVault == nil {
		l := wrapLabel("Your password and private key are kept in " + w.u.opts.KeyStorage + ", never in a plain file.")
		l.Importance = widget.LowImportance
		return l
	}
	w.passphrase = widget.NewPasswordEntry()
	w.passphrase.SetPlaceHolder("Vault passphrase (at least 8 characters)")
	w.passphrase2 = widget.NewPasswordEntry()
	w.passphrase2.SetPlaceHolder("Repeat the passphrase")
	// One choice only; kept as a selection so createAccount and keyPage
	// read it the same way whatever the mode.
	w.storage = widget.NewRadioGroup([]string{storeVault}, nil)
	w.storage.SetSelected(storeVault)
	w.storage.Hide()
	l := wrapLabel("Sotto runs in portable mode: your password and private key are kept in " +
		w.u.opts.KeyStorage + ". Choose its passphrase; without it they cannot be recovered.")
	return container.NewVBox(widget.NewLabelWithStyle("Protect your keys",
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l, w.storage, w.passphrase, w.passphrase2)
}

// say sets a message label and hides it while empty, so empty messages
// leave no gap.
func say(l *widget.Label, imp widget.Importance, text string) {
	l.Importance = imp
	l.SetText(text)
	l.Hidden = text == ""
	l.Refresh()
}

// settings reads the form; ok is false (with a message shown) if invalid.
func (w *wizard) settings() (account.Settings, bool) {
	say(w.accountErr, widget.DangerImportance, "")
	jid := strings.TrimSpace(w.jid.Text)
	local, domain, found := strings.Cut(jid, "@")
	if !found || local == "" || domain == "" || strings.ContainsAny(jid, " /") {
		say(w.accountErr, widget.DangerImportance, "Enter your address like you@example.org.")
		return account.Settings{}, false
	}
	if w.password.Text == "" {
		say(w.accountErr, widget.DangerImportance, "Enter your password.")
		return account.Settings{}, false
	}
	// A new account gets the default policy, Opportunistic (Account
	// settings changes it).
	s := account.Settings{JID: jid, Server: strings.TrimSpace(w.server.Text), AutoConnect: true,
		Policy: account.Opportunistic}
	if p := strings.TrimSpace(w.port.Text); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			say(w.accountErr, widget.DangerImportance, "The port must be a number from 1 to 65535.")
			return account.Settings{}, false
		}
		s.Port = n
	}
	return s, true
}

func (w *wizard) setBusy(on bool) {
	if on {
		w.busy.Show()
		w.testBtn.Disable()
		w.create.Disable()
	} else {
		w.busy.Hide()
		w.testBtn.Enable()
		w.create.Enable()
	}
}

// testConnection logs in once with the form's settings, off the UI thread.
func (w *wizard) testConnection() {
	s, ok := w.settings()
	if !ok {
		return
	}
	pw := w.password.Text
	w.setBusy(true)
	say(w.testResult, widget.MediumImportance, "Connecting to "+s.JID+"…")
	w.signingIn = s.JID
	w.u.do(func(ctx context.Context) error { return w.u.b.TestConnection(ctx, s, pw) }, func(err error) {
		w.setBusy(false)
		var ce *account.CertificateError
		if errors.As(err, &ce) {
			w.askCert(ce.Question, w.testConnection)
			return
		}
		if err != nil {
			say(w.testResult, widget.DangerImportance, "Could not log in: "+plain(err))
			return
		}
		say(w.testResult, widget.SuccessImportance, "Logged in successfully.")
	})
}

// createAccount stores the account (after switching to the vault if
// chosen), then moves to the key page.
func (w *wizard) createAccount() {
	s, ok := w.settings()
	if !ok {
		return
	}
	vault := ""
	if w.storage != nil && w.storage.Selected == storeVault {
		if len(w.passphrase.Text) < 8 || w.passphrase.Text != w.passphrase2.Text {
			say(w.accountErr, widget.DangerImportance, "Choose a vault passphrase of at least 8 characters and type it twice.")
			return
		}
		vault = w.passphrase.Text
	}
	if s.JID == w.added { // came back with the Back button: already added
		w.push(w.keyPage(), "Your private key")
		w.generateKey()
		return
	}
	pw := w.password.Text
	w.setBusy(true)
	say(w.testResult, widget.MediumImportance, "Signing in to "+s.JID+"…")
	w.signingIn = s.JID
	if s.Resource == "" {
		s.Resource = account.NewResource()
	}
	// Sign in first: a wrong password or an untrusted certificate is
	// settled here, before any key is made or anything is saved.
	w.u.do(func(ctx context.Context) error {
		if err := w.u.b.TestConnection(ctx, s, pw); err != nil {
			return errSignIn{err}
		}
		if vault != "" {
			if err := w.u.opts.UseVault(ctx, vault); err != nil {
				return err
			}
		}
		return w.u.b.AddAccount(ctx, s, pw)
	}, func(err error) {
		w.setBusy(false)
		say(w.testResult, widget.MediumImportance, "")
		var se errSignIn
		if errors.As(err, &se) {
			say(w.accountErr, widget.DangerImportance, w.loginFailed(s, se.err, w.createAccount))
			return
		}
		if err != nil {
			say(w.accountErr, widget.DangerImportance, "Could not add the account: "+plain(err))
			return
		}
		w.added = s.JID
		w.password.SetText("")
		w.push(w.keyPage(), "Your private key")
		w.generateKey()
	})
}

// errSignIn marks a failure of the sign-in step of createAccount.
type errSignIn struct{ err error }

func (e errSignIn) Error() string { return e.err.Error() }
func (e errSignIn) Unwrap() error { return e.err }

// push shows a page (with Back).
func (w *wizard) push(p fyne.CanvasObject, title string) {
	w.page = p
	w.nav.PushWithTitle(p, title)
}

func (w *wizard) keyPage() fyne.CanvasObject {
	w.keyStatus = wrapLabel("")
	w.keyBusy = widget.NewProgressBarInfinite()
	w.fp = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Monospace: true, Bold: true})
	w.fp.Selectable = true
	w.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.u.app.Clipboard().SetContent(w.fp.Text)
	})
	where := wrapLabel("Your private key is kept in " + w.u.opts.KeyStorage + ". It never leaves this computer.")
	if w.storage != nil && w.storage.Selected == storeVault {
		where.SetText("Your private key is kept in the portable vault, protected by your passphrase. " +
			"It never leaves the vault unencrypted.")
	}
	where.Importance = widget.LowImportance
	w.doneBtn = widget.NewButtonWithIcon("Start chatting", theme.ConfirmIcon(), w.finish)
	w.doneBtn.Importance = widget.HighImportance
	done := w.doneBtn
	w.firstContact = widget.NewEntry()
	w.firstContact.SetPlaceHolder("friend@example.org (optional)")
	w.firstContact.OnSubmitted = func(string) { w.finish() }
	w.keyDone = container.NewVBox(
		wrapLabel("This is your fingerprint. Your contacts can compare it to make sure they are talking to you:"),
		container.NewBorder(nil, nil, nil, w.copyBtn, w.fp), where,
		widget.NewLabelWithStyle("Who do you want to talk to?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		w.firstContact, container.NewHBox(layoutSpacer(), done))
	w.keyDone.Hide()
	w.retry = widget.NewButton("Try again", w.generateKey)
	w.retry.Hide()
	return container.NewPadded(container.NewVBox(w.keyStatus, w.keyBusy, w.retry, w.keyDone))
}

// generateKey creates the OTR key (DSA generation takes a moment; a
// locked keyring may prompt), off the UI thread, with a progress bar.
func (w *wizard) generateKey() {
	jid := w.added
	w.retry.Hide()
	w.keyBusy.Show()
	w.keyStatus.Importance = widget.MediumImportance
	w.keyStatus.SetText("Creating your private key for " + jid + "…")
	var fp string
	w.u.do(func(ctx context.Context) error {
		var err error
		fp, err = w.u.b.GenerateKey(ctx, jid)
		return err
	}, func(err error) {
		w.keyBusy.Hide()
		if err != nil {
			w.keyStatus.Importance = widget.DangerImportance
			w.keyStatus.SetText("Could not create or store your key: " + plain(err))
			w.retry.Show()
			return
		}
		w.keyStatus.SetText("Your private key is ready.")
		w.fp.SetText(groupFingerprint(fp))
		w.keyDone.Show()
		w.win.Canvas().Focus(w.firstContact)
	})
}

// finish closes the wizard, shows the roster and connects.
func (w *wizard) finish() {
	u := w.u
	var jids []string
	if w.added != "" {
		jids = append(jids, w.added)
	}
	for i, s := range w.imported {
		jids = append(jids, s.JID)
		if pw := w.importPw[i].Text; pw != "" {
			s, pw := s, pw
			u.do(func(ctx context.Context) error { return u.b.UpdateAccount(ctx, s, pw) }, nil)
		}
	}
	first := ""
	if w.firstContact != nil && w.added != "" {
		first = strings.TrimSpace(w.firstContact.Text)
		if first != "" && !strings.Contains(first, "@") {
			say(w.keyStatus, widget.DangerImportance, "Enter your contact's address like friend@example.org, or leave it empty.")
			return
		}
	}
	w.win.Hide()
	u.wizard = nil
	u.roster.show()
	for _, j := range jids {
		j := j
		u.do(func(ctx context.Context) error { return u.b.Connect(ctx, j) }, func(err error) {
			if err != nil {
				u.roster.setConnNotice(j, "Could not connect "+j+": "+plain(err))
				return
			}
			if j == w.added && first != "" {
				u.addFirstContact(j, first)
			}
		})
	}
}

// addFirstContact asks for the contact chosen in the wizard and opens the
// chat with them; it turns private once they accept and come online.
func (u *UI) addFirstContact(acct, jid string) {
	u.do(func(ctx context.Context) error { return u.b.AddContact(ctx, acct, jid, "", nil) }, func(err error) {
		if err != nil {
			u.roster.setNotice("Could not add " + jid + ": " + plain(err))
			return
		}
		u.chats.open(account.Conversation{Account: acct, Peer: jid}, true)
	})
}

func (w *wizard) importPage() fyne.CanvasObject {
	w.importDir = widget.NewEntry()
	if dir, err := account.DefaultPidginDir(); err == nil {
		w.importDir.SetText(dir)
	}
	w.importResult = wrapLabel("")
	list := container.NewVBox()
	done := widget.NewButtonWithIcon("Start chatting", theme.ConfirmIcon(), w.finish)
	done.Importance = widget.HighImportance
	done.Hide()
	var btn *widget.Button
	btn = widget.NewButtonWithIcon("Import", theme.DownloadIcon(), func() {
		dir := strings.TrimSpace(w.importDir.Text)
		btn.Disable()
		w.importResult.SetText("Reading " + dir + "…")
		var got []account.Settings
		w.u.do(func(ctx context.Context) error {
			var err error
			got, err = w.u.b.ImportPidgin(ctx, dir)
			return err
		}, func(err error) {
			btn.Enable()
			if err != nil {
				w.importResult.Importance = widget.DangerImportance
				w.importResult.SetText("Could not import: " + plain(err))
				return
			}
			w.showImported(got, list)
			done.Show()
		})
	})
	return container.NewPadded(container.NewVScroll(container.NewVBox(
		wrapLabel("Sotto can take your XMPP accounts, OTR keys and verified fingerprints from Pidgin. "+
			"Your contacts keep seeing the same fingerprint."),
		widget.NewForm(widget.NewFormItem("Pidgin folder", w.importDir)),
		container.NewHBox(layoutSpacer(), btn), w.importResult, list,
		container.NewHBox(layoutSpacer(), done))))
}

// showImported lists the imported accounts with their fingerprints and
// a password field each (Pidgin's passwords are not imported).
func (w *wizard) showImported(got []account.Settings, list *fyne.Container) {
	w.imported = got
	w.importPw = nil
	list.RemoveAll()
	w.importResult.Importance = widget.SuccessImportance
	w.importResult.SetText("Imported " + strconv.Itoa(len(got)) + " account(s) with their keys and fingerprints. " +
		"Enter each password to connect (passwords are not imported).")
	for _, s := range got {
		pw := widget.NewPasswordEntry()
		pw.SetPlaceHolder("Password for " + s.JID)
		w.importPw = append(w.importPw, pw)
		fp := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		jid := s.JID
		var got string
		w.u.do(func(ctx context.Context) error {
			var err error
			got, err = w.u.b.OwnFingerprint(ctx, jid)
			return err
		}, func(err error) {
			if err == nil {
				fp.SetText(groupFingerprint(got))
			}
		})
		list.Add(widget.NewCard(jid, "", container.NewVBox(fp, pw)))
	}
}
