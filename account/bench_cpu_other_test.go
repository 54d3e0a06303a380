//go:build !linux

package account

import "testing"

// Without /proc and getrusage the CPU columns of BenchmarkRoundTrip read 0.
func procTicks(testing.TB, int) int64 { return 0 }
func selfCPU() int64                  { return 0 }
