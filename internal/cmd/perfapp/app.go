//go:build unix

package main

// The measured child: Sotto's UI built as main.go builds it (profile,
// account.Manager, ui.New, Start, Run), with the event pump instrumented.
// It prints "perf: key=value" lines and quits.
//
// "Drawn" is the first frame painted with the 2,000 contacts in it: the
// window's first frame when the roster cache had them (ui.Start applies it
// before Show, and Fyne paints inside Show), else the frame after the
// RosterChanged that brought them. A 1x1 canvas.Raster is put in an
// overlay of the window, and Fyne's painter calls its generator while it
// paints that frame. The same marker times each filter keystroke from the key to
// the frame that shows the result.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/assets"
	"github.com/sotto-im/sotto/secret"
	"github.com/sotto-im/sotto/ui"
)

const appID = "im.sotto.app" // as main.go

// cpuProfile is PERFAPP_CPUPROFILE's (or PERFAPP_BARE_CPUPROFILE's) file
// while the start-up is profiled; profileMu guards it (stopProfile is
// called from the goroutine that sees the first frame and from finish).
var (
	profileMu  sync.Mutex
	cpuProfile *os.File
)

// startProfile starts a CPU profile into the file the environment
// variable env names, if set; "%p" in it becomes the process id, so that
// each run of a -runs N set keeps its own profile (go tool pprof merges
// several).
func startProfile(env string) error {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	f, err := os.Create(strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid())))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	cpuProfile = f
	return nil
}

// stopProfile ends the profile startProfile began, if any.
func stopProfile() {
	profileMu.Lock()
	defer profileMu.Unlock()
	if cpuProfile != nil {
		pprof.StopCPUProfile()
		_ = cpuProfile.Close()
		cpuProfile = nil
	}
}

// phase says what the child was doing, for the timeout message.
var phase atomic.Value

func setPhase(s string) { phase.Store(s) }

func init() { setPhase("starting") }

func runApp(args []string) error {
	t0 := time.Now()
	tMain := t0
	if v, err := strconv.ParseInt(os.Getenv("PERFAPP_T0"), 10, 64); err == nil {
		t0 = time.Unix(0, v) // the parent's clock just before exec
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50) // as main.go's lessGarbage
	}
	if err := startProfile("PERFAPP_CPUPROFILE"); err != nil { // start-up, until the roster is drawn
		return err
	}
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	dir := fs.String("profile", "", "profile folder")
	jid := fs.String("jid", "", "account")
	contacts := fs.Int("contacts", 2000, "roster size to wait for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pw, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
	if err != nil {
		return err
	}
	store := secret.NewMemory()
	_ = store.Set(context.Background(), "password:"+*jid, pw) // account's key for the password
	if path := os.Getenv("PERFAPP_KEYFILE"); path != "" {
		k, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_ = store.Set(context.Background(), "otr-key:"+*jid, k) // account/doc.go's name for it
	}
	profile, err := account.OpenProfile(*dir)
	if profile == nil {
		return err
	}

	started := make(chan struct{}) // as main.go
	mgr := account.NewManager(profile, store, account.WithOMEMO(true), account.WithStartAfter(started))
	mgr.PreloadCachedRosters()
	app.SetMetadata(fyne.AppMetadata{ID: appID, Name: "Sotto", Version: "perf", Icon: assets.Icon})
	tApp := time.Now()
	a := app.NewWithID(appID)
	a.SetIcon(assets.Icon)
	tUI := time.Now()
	u := ui.New(a, mgr, ui.Options{KeyStorage: "memory (perfapp)", Prefs: profile})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = mgr.Run(ctx) }()
	p := &probe{t0: t0, app: a, mgr: mgr, jid: *jid, u: u, want: *contacts}
	// Where the time before the first frame goes (printed by finish):
	// exec → main, → the Fyne app, → ui.New, → ui.Start (roster_applied_ms).
	p.phases = []time.Time{tMain, tApp, tUI}
	// The UI draws the cached roster in the window's first frame, which
	// Fyne paints inside Show (ui.Start): the marker goes in before, as
	// the bare app's does, so that frame is the one timed. It counts only
	// if the cache held the whole roster (checked after the frame, so the
	// check costs the measured start nothing).
	first := p.markNextFrame()
	applied := time.Now()
	u.Start()
	close(started)
	if cs, ok := mgr.CachedRoster(*jid); ok && len(cs) >= *contacts {
		// The profile (if any) ends with that frame, before the sign-in's
		// work, which is not part of the start measured.
		fwd := make(chan time.Time, 1)
		go func() {
			t, ok := <-first
			stopProfile()
			if ok {
				fwd <- t
			} else {
				close(fwd)
			}
		}()
		p.preApplied, p.prePainted = applied, fwd
	} else {
		p.clearMark()
	}
	go p.pump(ctx, mgr.Events())
	setPhase("waiting for the roster")
	go func() { // never hang the benchmark
		time.Sleep(45 * time.Second)
		fmt.Fprintf(os.Stderr, "perfapp app: timed out (phase: %s, roster events %d)\n", phase.Load(), p.rosterEvents.Load())
		os.Exit(2)
	}()
	a.Run()
	u.Stop()
	return p.err
}

type probe struct {
	mark    fyne.CanvasObject // see markNextFrame; Fyne goroutine only
	markWin fyne.Window
	t0      time.Time
	app     fyne.App
	mgr     *account.Manager
	jid     string
	u       *ui.UI
	want    int
	err     error
	// rosterEvents counts RosterChanged events that reached the UI.
	rosterEvents atomic.Int64
	// prePainted, when set, receives the time of the first frame, which
	// already shows the cached roster Start applied at preApplied.
	preApplied time.Time
	// phases: main entered, the Fyne app made, ui.New called.
	phases     []time.Time
	prePainted <-chan time.Time
	// reconnected, when set (by reconnect), receives the time of the
	// first frame painted after the roster that follows the next login.
	reconnected atomic.Pointer[chan time.Time]
}

// pump does what ui.UI.Run does (each event applied on the Fyne
// goroutine, in order) and measures:
//   - roster_drawn_ms: exec to the first frame with the whole roster,
//     whichever source brought it (the profile's cache before sign-in, or
//     the server);
//   - login_drawn_ms: the account's "connecting" to the first frame after
//     the roster the server sent for this login (the whole roster when
//     there was no cache, "nothing changed" with roster versioning);
//   - after finish's filtering, a reconnect (reconnect_drawn_ms).
func (p *probe) pump(ctx context.Context, events <-chan account.Event) {
	var connecting time.Time
	connected, started, loggedIn := false, false, false
	var arrived, applied, drawn time.Time
	var login time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if cc, ok := ev.(account.ConnectionChanged); ok {
				switch cc.State {
				case account.Connecting:
					if connecting.IsZero() {
						connecting = time.Now()
					}
				case account.Connected:
					connected = true
				default:
					connected = false
				}
			}
			rc, isRoster := ev.(account.RosterChanged)
			if isRoster {
				p.rosterEvents.Add(1)
			}
			whole := isRoster && len(rc.Contacts) >= p.want
			if ch := p.reconnected.Load(); ch != nil && whole && connected {
				p.reconnected.Store(nil)
				var painted <-chan time.Time
				fyne.DoAndWait(func() { p.u.Handle(ev); painted = p.markNextFrame() })
				t, err := wait(painted)
				if err != nil {
					close(*ch)
				} else {
					*ch <- t
				}
				continue
			}
			if whole && !started && p.prePainted != nil {
				t, err := wait(p.prePainted)
				if err != nil {
					go p.finish(p.preApplied, p.preApplied, t, 0, err)
					return
				}
				started, arrived, applied, drawn = true, p.preApplied, p.preApplied, t
			}
			if !whole || (started && (loggedIn || !connected)) {
				fyne.Do(func() { p.u.Handle(ev) })
				continue
			}
			setPhase("applying roster")
			got := time.Now()
			var done time.Time
			var painted <-chan time.Time
			fyne.DoAndWait(func() {
				p.u.Handle(ev)
				done = time.Now()
				painted = p.markNextFrame()
			})
			setPhase("waiting for the roster frame")
			t, err := wait(painted)
			if err != nil {
				go p.finish(got, done, t, 0, err)
				return
			}
			if !started {
				started, arrived, applied, drawn = true, got, done, t
			}
			if connected && !loggedIn {
				loggedIn, login = true, t.Sub(connecting)
			}
			if loggedIn {
				go p.finish(arrived, applied, drawn, login, nil)
			}
		}
	}
}

// reconnect signs out and in again and returns connect to the frame that
// shows the roster the login brought.
func (p *probe) reconnect() (time.Duration, error) {
	setPhase("reconnecting")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.mgr.Disconnect(ctx, p.jid); err != nil {
		return 0, err
	}
	ch := make(chan time.Time, 1)
	p.reconnected.Store(&ch)
	start := time.Now()
	if err := p.mgr.Connect(ctx, p.jid); err != nil {
		return 0, err
	}
	select {
	case t, ok := <-ch:
		if !ok {
			return 0, errors.New("no frame after the reconnect's roster")
		}
		return t.Sub(start), nil
	case <-ctx.Done():
		return 0, errors.New("no roster within 20 s of reconnecting")
	}
}

func (p *probe) mainWindow() fyne.Window {
	for _, w := range p.app.Driver().AllWindows() {
		if t := w.Title(); t == "Sotto" || strings.HasPrefix(t, "Sotto — ") { // "Sotto — <account>"
			return w
		}
	}
	return nil
}

// markNextFrame must run on the Fyne goroutine. It returns a channel that
// receives the time the next frame of the main window is painted. The
// marker stays in the overlay stack until the next call or clearMark
// (removing an overlay also removes every overlay above it).
func (p *probe) markNextFrame() <-chan time.Time {
	ch := make(chan time.Time, 1)
	w := p.mainWindow()
	if w == nil {
		close(ch)
		return ch
	}
	p.clearMark()
	var once sync.Once
	r := canvas.NewRaster(func(int, int) image.Image {
		once.Do(func() { t := time.Now(); noteFirstFrameCPU(); ch <- t })
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	r.Resize(fyne.NewSize(1, 1))
	ov := container.NewWithoutLayout(r)
	ov.Resize(fyne.NewSize(1, 1)) // a zero-size container is not painted
	w.Canvas().Overlays().Add(ov)
	p.mark, p.markWin = ov, w
	return ch
}

// clearMark removes the marker overlay; on the Fyne goroutine.
func (p *probe) clearMark() {
	if p.mark != nil {
		p.markWin.Canvas().Overlays().Remove(p.mark)
		p.mark, p.markWin = nil, nil
	}
}

func wait(ch <-chan time.Time) (time.Time, error) {
	select {
	case t, ok := <-ch:
		if !ok {
			return t, errors.New("no Sotto window")
		}
		return t, nil
	case <-time.After(10 * time.Second):
		return time.Time{}, errors.New("no frame painted within 10 s")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (p *probe) finish(arrived, applied, drawn time.Time, login time.Duration, err error) {
	defer fyne.Do(p.app.Quit)
	if err != nil {
		p.err = err
		return
	}
	stopProfile()
	fmt.Printf("perf: login_drawn_ms=%.2f\n", ms(login))
	fmt.Printf("perf: roster_event_ms=%.2f\n", ms(arrived.Sub(p.t0)))
	fmt.Printf("perf: roster_applied_ms=%.2f\n", ms(applied.Sub(p.t0)))
	for i, name := range []string{"main_ms", "app_new_ms", "ui_new_ms"} {
		if i < len(p.phases) {
			fmt.Printf("perf: %s=%.2f\n", name, ms(p.phases[i].Sub(p.t0)))
		}
	}
	fmt.Printf("perf: roster_drawn_ms=%.2f\n", ms(drawn.Sub(p.t0)))
	printFirstFrameCPU()
	fmt.Printf("perf: apply_roster_ms=%.2f\n", ms(applied.Sub(arrived)))
	fmt.Printf("perf: rss_anon_drawn_mib=%.2f\n", rssAnonMiB())
	printGoMem("drawn")
	if path := os.Getenv("PERFAPP_FILTERPROFILE"); path != "" {
		_ = writeHeapProfile(path + ".before")
		defer func() { _ = writeHeapProfile(path + ".after") }()
	}
	if err := p.filter(); err != nil {
		p.err = err
		return
	}
	setPhase("settling")
	time.Sleep(2 * time.Second) // let the heap and the GL driver settle
	fmt.Printf("perf: rss_anon_settled_mib=%.2f\n", rssAnonMiB())
	fmt.Printf("perf: roster_events=%d\n", p.rosterEvents.Load())
	printGoMem("settled")
	d, err := p.reconnect()
	if err != nil {
		p.err = err
		return
	}
	fmt.Printf("perf: reconnect_drawn_ms=%.2f\n", ms(d))
	if path := os.Getenv("PERFAPP_HEAPPROFILE"); path != "" {
		if err := writeHeapProfile(path); err != nil {
			p.err = err
		}
	}
}

// filter types "user1999" into the roster's search field and deletes it
// again, three times: 48 keystrokes. work is the time the keystroke takes
// on the Fyne goroutine (the filter over 2,000 contacts and the list
// refresh); frame is key to painted frame, which adds the wait for the
// next frame tick (Fyne paints at most 60 times a second).
func (p *probe) filter() error {
	setPhase("filtering")
	var entry *widget.Entry
	fyne.DoAndWait(func() {
		p.clearMark() // focus moves inside the top overlay otherwise
		w := p.mainWindow()
		if w == nil {
			return
		}
		c := w.Canvas()
		for i := 0; i < 64 && entry == nil; i++ {
			c.FocusNext()
			if e, ok := c.Focused().(*widget.Entry); ok && e.PlaceHolder == "Search contacts" {
				entry = e
			}
		}
	})
	if entry == nil {
		return errors.New("no search field reachable with Tab in the roster window")
	}
	var work, frame []time.Duration
	key := func(f func()) error {
		var start, done time.Time
		var painted <-chan time.Time
		fyne.DoAndWait(func() {
			start = time.Now()
			f()
			done = time.Now()
			painted = p.markNextFrame()
		})
		t, err := wait(painted)
		if err != nil {
			return err
		}
		work, frame = append(work, done.Sub(start)), append(frame, t.Sub(start))
		return nil
	}
	for round := 0; round < 3; round++ {
		for _, r := range "user1999" {
			if err := key(func() { entry.TypedRune(r) }); err != nil {
				return err
			}
		}
		for range "user1999" {
			if err := key(func() { entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace}) }); err != nil {
				return err
			}
		}
	}
	fyne.DoAndWait(p.clearMark)
	if entry.Text != "" {
		return fmt.Errorf("search field holds %q after the keystrokes", entry.Text)
	}
	printPct("filter_work", work)
	printPct("filter_frame", frame)
	return nil
}

func printPct(name string, ds []time.Duration) {
	slices.Sort(ds)
	fmt.Printf("perf: %s_p50_ms=%.2f\n", name, ms(ds[len(ds)/2]))
	fmt.Printf("perf: %s_max_ms=%.2f\n", name, ms(ds[len(ds)-1]))
}

// rssAnonMiB reads RssAnon from /proc/self/status.
func rssAnonMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// printGoMem shows how much of the anonymous memory is Go's: the heap in
// use, and everything the Go runtime holds from the OS (heap, stacks,
// freed pages not yet returned). The rest of RssAnon is C (Mesa, GLFW).
func printGoMem(when string) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	fmt.Printf("perf: go_heap_inuse_%s_mib=%.2f\n", when, mib(m.HeapInuse))
	fmt.Printf("perf: go_resident_%s_mib=%.2f\n", when, mib(m.Sys-m.HeapReleased))
	if os.Getenv("PERFAPP_MEMDETAIL") != "" {
		fmt.Fprintf(os.Stderr, "memdetail %s: heapSys %.1f heapIdle %.1f released %.1f stack %.1f mspan %.1f gc %.1f other %.1f numGC %d\n",
			when, mib(m.HeapSys), mib(m.HeapIdle), mib(m.HeapReleased), mib(m.StackSys), mib(m.MSpanSys), mib(m.GCSys), mib(m.OtherSys), m.NumGC)
	}
}

// writeHeapProfile writes a heap profile (after a GC, so in-use is live
// data) for `go tool pprof`.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// firstCPU is the CPU time used when the first marked frame was painted:
// by the thread that paints it (Fyne's main thread, where the whole
// start-up's UI work runs) and by the process (every thread: the
// collector, Mesa's, the account's). Unlike the wall clock, it hardly
// moves with the machine's other load, so it shows what a change to the
// start-up's work does when the wall-clock times swing.
var firstCPU struct {
	once         sync.Once
	thread, proc time.Duration
	ok           bool
}

// noteFirstFrameCPU records firstCPU, once; called on the painting thread.
func noteFirstFrameCPU() {
	firstCPU.once.Do(func() {
		var t, p syscall.Rusage
		if syscall.Getrusage(rusageThread, &t) == nil && syscall.Getrusage(syscall.RUSAGE_SELF, &p) == nil {
			firstCPU.thread, firstCPU.proc, firstCPU.ok = cpuTime(t), cpuTime(p), true
		}
	})
}

// rusageThread is Linux's RUSAGE_THREAD (the syscall package has no name for it).
const rusageThread = 1

func cpuTime(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// printFirstFrameCPU prints firstCPU (after the frame was seen painted).
func printFirstFrameCPU() {
	if firstCPU.ok {
		fmt.Printf("perf: drawn_cpu_main_ms=%.2f\n", ms(firstCPU.thread))
		fmt.Printf("perf: drawn_cpu_proc_ms=%.2f\n", ms(firstCPU.proc))
	}
}
