//go:build amd64 && !purego

package otr

import "golang.org/x/sys/cpu"

// montADX: the Montgomery product runs in mont_amd64.s on CPUs with
// BMI2 (MULX) and ADX (ADCX, ADOX) for moduli of a multiple of four
// words (1024-, 1536-, 2048-bit: the D-H group and DSA keys).
var montADX = cpu.X86.HasBMI2 && cpu.X86.HasADX

// montMulADX adds x·y + u·m into the zeroed accumulator t (2n+2 words)
// so that t[n:] holds x·y·R⁻¹ (mod m), less than 2m; n is a positive
// multiple of 4 and x, y, m have n words.
//
//go:noescape
func montMulADX(t, x, y, m *uint64, n int, k0 uint64)
