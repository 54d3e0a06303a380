//go:build !race

package ui

// raceSlowdown scales timing bounds: the race detector slows code 5-10x.
const raceSlowdown = 1
