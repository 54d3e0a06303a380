//go:build unix

package main

// The anchor: a bare Fyne app in the same binary and the same run, doing
// the least a roster window must — one window with a widget.List of the
// same 2,000 "User NNNN" rows — measured the same way (exec to the first
// painted frame with the rows; RssAnon then, and after 2 s). Sotto's cold
// start and memory are judged against this floor (issue 17: cold start
// ≤ 1.5× the bare app's).

import (
	"flag"
	"fmt"
	"image"
	"os"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

func runBare(args []string) error {
	t0 := time.Now()
	tMain := t0
	if v, err := strconv.ParseInt(os.Getenv("PERFAPP_T0"), 10, 64); err == nil {
		t0 = time.Unix(0, v)
	}
	if err := startProfile("PERFAPP_BARE_CPUPROFILE"); err != nil { // as the app's, to its first frame
		return err
	}
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	contacts := fs.Int("contacts", 2000, "rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tApp := time.Now()
	a := app.NewWithID(appID + ".bare")
	tWin := time.Now()
	w := a.NewWindow("Bare") // GLFW's initialisation
	tContent := time.Now()
	names := make([]string, *contacts)
	for i := range names {
		names[i] = fmt.Sprintf("User %04d", i)
	}
	list := widget.NewList(func() int { return len(names) },
		func() fyne.CanvasObject { return widget.NewLabel("User 0000") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(names[i]) })
	var once sync.Once
	drawn := make(chan time.Time, 1)
	mark := canvas.NewRaster(func(int, int) image.Image {
		once.Do(func() { t := time.Now(); noteFirstFrameCPU(); drawn <- t })
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	mark.Resize(fyne.NewSize(1, 1))
	ov := container.NewWithoutLayout(mark)
	ov.Resize(fyne.NewSize(1, 1))
	w.SetContent(list)
	w.Canvas().Overlays().Add(ov)
	w.Resize(fyne.NewSize(360, 640)) // Sotto's roster window's default
	tShow := time.Now()
	go func() {
		var err error
		select {
		case t := <-drawn:
			stopProfile()
			fmt.Printf("perf: roster_drawn_ms=%.2f\n", ms(t.Sub(t0)))
			fmt.Printf("perf: main_ms=%.2f\n", ms(tMain.Sub(t0)))
			// Where the time before the first frame goes: exec → main,
			// → app.New, → NewWindow, → the list built and set
			// (SetContent measures it), → Show, which paints the frame.
			fmt.Printf("perf: app_new_ms=%.2f\n", ms(tApp.Sub(t0)))
			fmt.Printf("perf: window_new_ms=%.2f\n", ms(tWin.Sub(t0)))
			fmt.Printf("perf: content_ms=%.2f\n", ms(tContent.Sub(t0)))
			fmt.Printf("perf: show_ms=%.2f\n", ms(tShow.Sub(t0)))
			printFirstFrameCPU()
			fmt.Printf("perf: rss_anon_drawn_mib=%.2f\n", rssAnonMiB())
			printGoMem("drawn")
			time.Sleep(2 * time.Second)
			fmt.Printf("perf: rss_anon_settled_mib=%.2f\n", rssAnonMiB())
			printGoMem("settled")
		case <-time.After(30 * time.Second):
			err = fmt.Errorf("no frame painted within 30 s")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "perfapp bare:", err)
			os.Exit(2)
		}
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return nil
}
