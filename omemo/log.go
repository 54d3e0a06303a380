package omemo

import "go.mau.fi/libsignal/logger"

// go.mau.fi/libsignal logs through a package-level logger whose default
// prints to stdout, and some of its debug lines carry key material
// ("Using cipherKey: …"). The library has no other way to configure it,
// so this package replaces it once, process-wide, with one that drops
// everything: nothing the library says reaches a terminal or a log.
func init() {
	var l logger.Loggable = silent{}
	logger.Setup(&l)
}

type silent struct{}

func (silent) Debug(caller, message string)   {}
func (silent) Info(caller, message string)    {}
func (silent) Warning(caller, message string) {}
func (silent) Error(caller, message string)   {}
func (silent) Configure(settings string)      {}
