package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// Authentication methods, as the dialog names them.
const (
	methodQA     = "Question and answer"
	methodSecret = "Shared secret"
	methodManual = "Compare fingerprints"
	manualYes    = "I have verified that this is the correct fingerprint"
	manualNo     = "I have not verified it"
)

// authDialog is the Authenticate buddy dialog. It has four pages: ask
// (choose a method and start), answer (the peer asked us), wait
// (progress) and result.
type authDialog struct {
	v *convView
	d *dialog.CustomDialog

	ask, answer, wait, result *fyne.Container

	method               *widget.RadioGroup
	qa, shared, manual   *fyne.Container
	question, qaAnswer   *widget.Entry
	secret               *widget.Entry
	manualChoice         *widget.RadioGroup
	ownFP, theirFP       *widget.Label
	askErr               *widget.Label
	peerQuestion         *widget.Label
	reply                *widget.Entry
	answerErr            *widget.Label
	waitText, resultText *widget.Label
	resultIcon           *widget.Icon
	verifyBack, again    *widget.Button
	startBtn, answerBtn  *widget.Button
	peerQ                string // the peer's SMP question ("" = shared secret)
	// answered is the shared secret we answered with (no question), so
	// that verifying the peer in turn is one click.
	answered string
}

func newAuthDialog(v *convView, question string) *authDialog {
	a := &authDialog{v: v, peerQ: question}
	a.buildAsk()
	a.buildAnswer(question)
	a.buildWait()
	a.buildResult()
	body := container.NewStack(a.ask, a.answer, a.wait, a.result)
	a.d = dialog.NewCustomWithoutButtons("Authenticate "+v.peerName(), container.NewPadded(body), v.window())
	a.d.Resize(fyne.NewSize(520, 420))
	a.d.SetOnClosed(func() {
		if v.auth == a {
			v.auth = nil
		}
	})
	return a
}

func (a *authDialog) page(p *fyne.Container) {
	for _, c := range []*fyne.Container{a.ask, a.answer, a.wait, a.result} {
		c.Hide()
	}
	p.Show()
	// The question form needs room for its three methods; the answer
	// form, progress and results are a few lines, so the dialog shrinks
	// to fit them instead of framing empty space.
	a.fit(p)
	a.d.Show()
}

// fit sizes the dialog for page p: the question form at least 520×420,
// and never smaller than what the chosen method needs (comparing
// fingerprints needs more: at 420 its buttons lay over the choice).
func (a *authDialog) fit(p *fyne.Container) {
	size := fyne.NewSize(520, 420)
	need := p.MinSize().Height + 4*theme.Padding()
	if p != a.ask || need > size.Height {
		size.Height = need
	}
	a.d.Resize(size)
}

func (a *authDialog) buildAsk() {
	n := a.v.peerName()
	a.question = widget.NewEntry()
	a.question.SetPlaceHolder("A question only " + n + " can answer")
	a.qaAnswer = widget.NewPasswordEntry()
	a.qaAnswer.SetPlaceHolder("The answer")
	a.qa = container.NewVBox(wrapLabel("Ask a question whose answer only "+n+" knows. Answers must match exactly."),
		widget.NewForm(widget.NewFormItem("Question", a.question), widget.NewFormItem("Answer", a.qaAnswer)))
	a.secret = widget.NewPasswordEntry()
	a.secret.SetPlaceHolder("The secret you agreed on")
	a.shared = container.NewVBox(wrapLabel("Enter a secret you agreed on with "+n+" in person or by phone. "+
		n+" must enter the same secret."), a.secret)
	a.ownFP, a.theirFP = fingerprintLabel(""), fingerprintLabel(a.v.sec.Fingerprint)
	a.manualChoice = widget.NewRadioGroup([]string{manualNo, manualYes}, nil)
	a.manualChoice.SetSelected(manualNo)
	if a.v.sec.Verified {
		a.manualChoice.SetSelected(manualYes)
	}
	a.manual = container.NewVBox(wrapLabel("Compare fingerprints over a channel you trust (in person, by phone)."),
		widget.NewLabel("Your fingerprint:"), a.ownFP,
		widget.NewLabel(n+"'s fingerprint:"), a.theirFP, a.manualChoice)
	a.method = widget.NewRadioGroup([]string{methodQA, methodSecret, methodManual}, a.showMethod)
	a.askErr = wrapLabel("")
	a.askErr.Importance = widget.DangerImportance
	a.startBtn = widget.NewButtonWithIcon("Authenticate", theme.ConfirmIcon(), a.start)
	a.startBtn.Importance = widget.HighImportance
	buttons := container.NewHBox(layoutSpacer(), widget.NewButton("Cancel", a.d0Hide), a.startBtn)
	a.ask = container.NewBorder(container.NewVBox(widget.NewLabelWithStyle("How do you want to check that this is really "+n+"?",
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), a.method, widget.NewSeparator()),
		container.NewVBox(a.askErr, buttons), nil, nil, container.NewStack(a.qa, a.shared, a.manual))
	a.method.SetSelected(methodQA)
}

// d0Hide hides the dialog (a method value taken before a.d exists).
func (a *authDialog) d0Hide() { a.d.Hide() }

func (a *authDialog) showMethod(m string) {
	a.qa.Hide()
	a.shared.Hide()
	a.manual.Hide()
	switch m {
	case methodSecret:
		a.shared.Show()
	case methodManual:
		a.manual.Show()
		a.loadOwnFingerprint()
	default:
		a.qa.Show()
	}
	if a.d != nil && a.ask.Visible() {
		a.fit(a.ask)
	}
}

func (a *authDialog) loadOwnFingerprint() {
	if a.ownFP.Text != "" {
		return
	}
	acct := a.v.conv.Account
	var fp string
	a.v.u.do(func(ctx context.Context) error {
		var err error
		fp, err = a.v.u.b.OwnFingerprint(ctx, acct)
		return err
	}, func(err error) {
		if err != nil {
			a.ownFP.SetText("(unavailable: " + plain(err) + ")")
			return
		}
		a.ownFP.SetText(groupFingerprint(fp))
		if a.ask.Visible() {
			a.fit(a.ask)
		}
	})
}

func (a *authDialog) buildAnswer(q string) {
	n := a.v.peerName()
	a.peerQuestion = wrapLabel("")
	a.reply = widget.NewPasswordEntry()
	a.reply.OnSubmitted = func(string) { a.sendAnswer() }
	if q != "" {
		a.peerQuestion.SetText(n + " asks: " + q)
		a.peerQuestion.TextStyle.Bold = true
		a.reply.SetPlaceHolder("Your answer")
	} else {
		a.peerQuestion.SetText("Enter the secret you agreed on with " + n + ".")
		a.reply.SetPlaceHolder("The shared secret")
	}
	a.answerErr = wrapLabel("")
	a.answerErr.Importance = widget.DangerImportance
	a.answerBtn = widget.NewButtonWithIcon("Answer", theme.ConfirmIcon(), a.sendAnswer)
	a.answerBtn.Importance = widget.HighImportance
	a.answer = container.NewVBox(
		wrapLabel(n+" wants to make sure they are really talking to you."),
		a.peerQuestion, a.reply, a.answerErr,
		container.NewHBox(layoutSpacer(), widget.NewButton("Cancel", a.abort), a.answerBtn))
}

func (a *authDialog) buildWait() {
	a.waitText = wrapLabel("")
	a.wait = container.NewVBox(a.waitText, widget.NewProgressBarInfinite(),
		container.NewHBox(layoutSpacer(), widget.NewButton("Cancel", a.abort)))
}

func (a *authDialog) buildResult() {
	a.resultIcon = widget.NewIcon(theme.InfoIcon())
	a.resultText = wrapLabel("")
	a.resultText.TextStyle.Bold = true
	a.verifyBack = widget.NewButtonWithIcon("Verify "+a.v.peerName(), theme.ConfirmIcon(), a.verifyInTurn)
	a.verifyBack.Importance = widget.HighImportance
	a.again = widget.NewButton("Try again", a.showAsk)
	a.result = container.NewVBox(container.NewBorder(nil, nil, a.resultIcon, nil, a.resultText),
		container.NewHBox(layoutSpacer(), widget.NewButton("Close", a.d0Hide), a.again, a.verifyBack))
}

// verifyInTurn checks the peer after they checked us: with the shared
// secret we just answered with it starts at once (both of us know it),
// otherwise it opens the question form.
func (a *authDialog) verifyInTurn() {
	if a.answered == "" {
		a.showAsk()
		return
	}
	a.method.SetSelected(methodSecret)
	a.secret.SetText(a.answered)
	a.answered = ""
	a.start()
}

func (a *authDialog) showAsk() {
	a.askErr.SetText("")
	a.theirFP.SetText(groupFingerprint(a.v.sec.Fingerprint))
	a.page(a.ask)
}

// showAnswer shows the peer's request. If the peer used a shared secret,
// verifying them back defaults to the same method (one step fewer).
func (a *authDialog) showAnswer() {
	if a.peerQ == "" {
		a.method.SetSelected(methodSecret)
	}
	a.page(a.answer)
	a.focus(a.reply)
}

func (a *authDialog) waitFor(text string) {
	a.waitText.SetText(text)
	a.page(a.wait)
}

// start runs the chosen method.
func (a *authDialog) start() {
	v, n := a.v, a.v.peerName()
	conv := v.conv
	switch a.method.Selected {
	case methodManual:
		fp, verified := v.sec.Fingerprint, a.manualChoice.Selected == manualYes
		if fp == "" {
			a.askErr.SetText("There is no key to compare yet: start a private conversation first.")
			return
		}
		v.u.do(func(ctx context.Context) error {
			return v.u.b.SetVerified(ctx, conv.Account, conv.Peer, fp, verified)
		}, func(err error) {
			if err != nil {
				a.askErr.SetText("Could not save: " + plain(err))
				return
			}
			a.manualDone(verified)
		})
		return
	case methodSecret:
		s := a.secret.Text
		if strings.TrimSpace(s) == "" {
			a.askErr.SetText("Enter the secret first.")
			return
		}
		a.run("", s)
	default:
		q, s := strings.TrimSpace(a.question.Text), a.qaAnswer.Text
		if q == "" || strings.TrimSpace(s) == "" {
			a.askErr.SetText("Enter both a question and its answer.")
			return
		}
		a.run(q, s)
	}
	a.waitFor("Waiting for " + n + " to answer…")
}

func (a *authDialog) run(question, secret string) {
	v, conv := a.v, a.v.conv
	v.asking = true
	v.u.do(func(ctx context.Context) error {
		return v.u.b.Authenticate(ctx, conv, question, secret)
	}, func(err error) {
		if err != nil {
			v.asking = false
			a.askErr.SetText("Could not start: " + plain(err))
			a.page(a.ask)
		}
	})
}

func (a *authDialog) manualDone(verified bool) {
	n := a.v.peerName()
	a.again.Hide()
	a.verifyBack.Hide()
	if verified {
		a.resultIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		a.resultText.SetText("You marked " + n + "'s fingerprint as verified.")
	} else {
		a.resultIcon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		a.resultText.SetText(n + "'s fingerprint is not verified.")
	}
	a.page(a.result)
}

func (a *authDialog) sendAnswer() {
	s := a.reply.Text
	if strings.TrimSpace(s) == "" {
		a.answerErr.SetText("Enter the answer first.")
		return
	}
	v, conv := a.v, a.v.conv
	if a.peerQ == "" {
		a.answered = s
	}
	v.u.do(func(ctx context.Context) error { return v.u.b.AnswerSMP(ctx, conv, s) }, func(err error) {
		if err != nil {
			a.answerErr.SetText("Could not answer: " + plain(err))
			a.page(a.answer)
		}
	})
	a.reply.SetText("")
	a.waitFor("Checking your answer with " + v.peerName() + "…")
}

// focus puts the keyboard in e, so the answer is typed and sent with
// Enter without a click. It asks the chat window's canvas: a dialog just
// shown has not been drawn yet, so the driver cannot tell which canvas
// holds e (CanvasForObject returns nil until the first paint).
func (a *authDialog) focus(e *widget.Entry) {
	a.v.window().Canvas().Focus(e)
}

func (a *authDialog) abort() {
	v, conv := a.v, a.v.conv
	v.u.do(func(ctx context.Context) error { return v.u.b.AbortSMP(ctx, conv) }, nil)
	a.d.Hide()
}

// showResult shows an SMP outcome. After the peer verified us, it offers
// to verify the peer in turn, unless we already did: once both sides
// verified each other nobody is asked again.
func (a *authDialog) showResult(e account.SMPResult) {
	n := a.v.peerName()
	a.again.Hide()
	a.verifyBack.Hide()
	switch {
	case e.Outcome == account.SMPSucceeded && e.WeAsked && a.v.verifiedUs:
		a.resultIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		a.resultText.SetText("Authentication succeeded: " + n + " is verified. You have verified each other.")
	case e.Outcome == account.SMPSucceeded && e.WeAsked:
		a.resultIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		a.resultText.SetText("Authentication succeeded: " + n + " is verified. " +
			n + " can verify you too from their Authenticate buddy menu.")
	case e.Outcome == account.SMPSucceeded && a.v.sec.Verified:
		a.resultIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		a.resultText.SetText(n + " has verified you. You have verified each other.")
	case e.Outcome == account.SMPSucceeded:
		a.resultIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		a.resultText.SetText(n + " has verified you — verify " + n + " too?")
		a.verifyBack.Show()
	case e.Outcome == account.SMPFailed:
		a.resultIcon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		a.resultText.SetText("Authentication failed. The answers did not match: either a typo, " +
			"or you are not talking to " + n + ".")
		a.again.Show()
	case e.Outcome == account.SMPCheated:
		a.resultIcon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		a.resultText.SetText("Authentication failed: the reply was not valid. Someone may be interfering.")
		a.again.Show()
	default:
		a.resultIcon.SetResource(theme.InfoIcon())
		a.resultText.SetText("Authentication was cancelled.")
		a.again.Show()
	}
	a.page(a.result)
}
