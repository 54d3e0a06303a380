package ui

import (
	"context"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// ui imports account and Fyne only: never otr, mellium, or the GL app
// package (main.go creates the app).
func TestImportRules(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(p, "/otr") || strings.HasPrefix(p, "mellium.im") || p == "fyne.io/fyne/v2/app" {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

// Run applies events from the channel (through post, i.e. fyne.Do) and
// returns when the channel closes.
func TestRunPumpsEvents(t *testing.T) {
	h := newHarness(t).withBob()
	ch := make(chan account.Event, 2)
	ch <- account.MessageReceived{Conv: bobConv, Body: "one", Encrypted: true}
	ch <- account.SecurityChanged{Conv: bobConv, Level: account.Unverified, Fingerprint: bobFP}
	close(ch)
	done := make(chan struct{})
	go func() { h.u.Run(context.Background(), ch); close(done) }()
	h.settle(func() bool {
		v := h.u.chats.views[keyOf(bobConv)]
		return v != nil && v.sec.Level == account.Unverified
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the channel closed")
	}
}

// Open chats and the window size are remembered and restored.
func TestRemembersOpenChatsAndSize(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.chats.open(bobConv, true)
	h.u.roster.win.Resize(fyne.NewSize(420, 700))
	h.u.roster.close()
	saved := h.prefs.state()
	if len(saved.OpenChats) != 1 || saved.OpenChats[0].conv() != bobConv || saved.WindowW != 420 || saved.WindowH != 700 {
		t.Fatalf("saved %+v", saved)
	}

	h2 := newHarness(t)
	h2.prefs.ui = h.prefs.UIState()
	h2.u = New(h2.app, h2.b, Options{Prefs: h2.prefs})
	h2.u.post = func(f func()) { h2.queue <- f }
	h2.u.Start()
	if _, ok := h2.u.chats.views[keyOf(bobConv)]; !ok {
		t.Error("open chat not restored")
	}
	if sz := h2.u.roster.win.Canvas().Size(); sz.Width != 420 || sz.Height != 700 {
		t.Errorf("window size %v", sz)
	}
	if len(h2.b.called("StartPrivate")) != 0 {
		t.Error("restoring a chat started OTR by itself")
	}
}

// The chat window's size is remembered too (closing it keeps it).
func TestRemembersChatWindowSize(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.chats.open(bobConv, true)
	h.u.chats.win.Resize(fyne.NewSize(700, 500))
	h.u.chats.hide()
	if s := h.prefs.state(); s.ChatW != 700 || s.ChatH != 500 {
		t.Fatalf("saved chat size %vx%v", s.ChatW, s.ChatH)
	}
	h2 := newHarness(t)
	h2.prefs.ui = h.prefs.UIState()
	h2.u = New(h2.app, h2.b, Options{Prefs: h2.prefs})
	h2.u.post = func(f func()) { h2.queue <- f }
	h2.u.Start()
	h2.u.chats.ensureWindow()
	if sz := h2.u.chats.win.Canvas().Size(); sz.Width != 700 || sz.Height != 500 {
		t.Errorf("chat window size %v", sz)
	}
}

// A certificate question asks the user; Yes calls TrustCertificate.
func TestCertificateQuestion(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.Handle(account.CertificateQuestion{Account: me, Fingerprint: "ab12", Subject: "CN=example.org", Changed: true})
	top, ok := h.u.roster.win.Canvas().Overlays().Top().(*widget.PopUp)
	if !ok {
		t.Fatal("no certificate dialog")
	}
	yes := findButton(top.Content, "Trust and connect")
	if yes == nil {
		t.Fatal("no Yes button")
	}
	test.Tap(yes)
	if c := h.calls("TrustCertificate", 1)[0]; c.args[0] != me || c.args[1] != "ab12" {
		t.Errorf("TrustCertificate%v", c.args)
	}
}

// Errors reach people without package prefixes, as sentences.
func TestPlainErrors(t *testing.T) {
	for in, want := range map[error]string{
		context.DeadlineExceeded:             "This took too long. Check your network connection and try again.",
		errPlain("account: bad password"):    "Bad password.",
		errPlain("account: server said no."): "Server said no.",
	} {
		if got := plain(in); got != want {
			t.Errorf("plain(%v) = %q, want %q", in, got, want)
		}
	}
}

// Quitting with lines that have not reached the server asks first and
// says they would be lost; with nothing unsent and nothing private it
// quits at once (no dialog).
func TestQuitWarnsAboutUnsentLines(t *testing.T) {
	h := newHarness(t).withBob()
	h.b.unsent = []account.UnsentLines{{Conv: bobConv, Lines: 2, Private: 2}}
	h.u.quitAsking()
	h.settle(func() bool { return h.u.roster.win.Canvas().Overlays().Top() != nil })
	top := h.u.roster.win.Canvas().Overlays().Top()
	if findButtonDeep(top, "Quit") == nil {
		t.Fatal("no Quit button in the dialog")
	}
	want := account.QuitWarning(h.b.unsent)
	if want == "" || !hasLabelText(top, want) {
		t.Fatalf("the dialog does not say %q", want)
	}
}

// hasLabelText reports whether a label (or rich text) inside o, widgets
// included, contains text.
func hasLabelText(o fyne.CanvasObject, text string) bool {
	switch x := o.(type) {
	case *widget.Label:
		return strings.Contains(x.Text, text)
	case *widget.RichText:
		return strings.Contains(x.String(), text)
	case *canvas.Text:
		return strings.Contains(x.Text, text)
	}
	var kids []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, c := range kids {
		if hasLabelText(c, text) {
			return true
		}
	}
	return false
}
