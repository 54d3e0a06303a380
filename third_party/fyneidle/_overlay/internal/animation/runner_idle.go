// Added by the Sotto authors to fyne.io/fyne/v2 v2.7.1's
// internal/animation (see third_party/fyneidle/README.md).

package animation

// Busy reports whether an animation is running or about to start: the
// driver keeps drawing frames while it is.
func (r *Runner) Busy() bool {
	r.animationMutex.RLock()
	defer r.animationMutex.RUnlock()
	return r.runnerStarted || len(r.pendingAnimations) > 0
}
