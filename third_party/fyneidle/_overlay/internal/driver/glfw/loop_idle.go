//go:build !wasm && !test_web_driver

// Added by the Sotto authors to fyne.io/fyne/v2 v2.7.1's
// internal/driver/glfw (see third_party/fyneidle/README.md).

package glfw

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"
)

const (
	// quietFrames: frames in a row that paint nothing and run nothing
	// before the loop stops polling and waits (about 50 ms at 60 Hz).
	quietFrames = 3
	// idleWait bounds a wait, so the render caches are still walked and
	// cleaned now and then (their lifetime is a minute).
	idleWait = 5 * time.Second
)

var (
	// queued counts functions given to runOnMain and not yet run: the
	// loop never waits while one is on its way through funcQueue.
	queued atomic.Int64
	// idle.waiting is true only while the main thread is inside
	// glfw.WaitEventsTimeout; wakeMain posts an empty event only then, so
	// it never posts before glfw.Init or after glfw.Terminate.
	idle struct {
		sync.Mutex
		waiting bool
	}
)

// waitEvents blocks the main thread until an input event, wakeMain, or
// max has passed; GLFW runs the input callbacks inside the wait.
func (d *gLDriver) waitEvents(max time.Duration) {
	idle.Lock()
	if queued.Load() > 0 || !running.Load() {
		idle.Unlock()
		return
	}
	idle.waiting = true
	idle.Unlock()
	glfw.WaitEventsTimeout(max.Seconds())
	idle.Lock()
	idle.waiting = false
	idle.Unlock()
}

// wakeMain ends a wait of the main thread, if there is one.
func wakeMain() {
	idle.Lock()
	if idle.waiting {
		glfw.PostEmptyEvent()
	}
	idle.Unlock()
}
