//go:build !amd64 || purego

package otr

// Without the amd64 assembly every product runs the Go loop in mont.go.
var montADX = false

func montMulADX(z, x, y, m *uint64, n int, k0 uint64) { panic("otr: no montMulADX") }
func montSqrADX(z, x, m *uint64, n int, k0 uint64)    { panic("otr: no montSqrADX") }
