//go:build amd64 && !purego

package otr

//go:generate go run mont_amd64_gen.go

import "golang.org/x/sys/cpu"

// montADX: the Montgomery product and square run in mont_amd64.s
// (written by mont_amd64_gen.go) on CPUs with BMI2 (MULX) and ADX (ADCX,
// ADOX), for moduli of a multiple of four words (1024-, 1536-, 2048-bit:
// the D-H group and DSA keys). A variable so tests can compare both paths.
var montADX = cpu.X86.HasBMI2 && cpu.X86.HasADX

// montMulADX sets z = x·y·R⁻¹ mod m for x, y < m of n words, n a
// positive multiple of 4 and at most maxMontWords; z may alias x or y.
//
//go:noescape
func montMulADX(z, x, y, m *uint64, n int, k0 uint64)

// montSqrADX sets z = x²·R⁻¹ mod m, as montMulADX(z, x, x, m, n, k0).
//
//go:noescape
func montSqrADX(z, x, m *uint64, n int, k0 uint64)
