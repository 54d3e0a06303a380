//go:build ignore

// mont_amd64_gen writes mont_amd64.s: `go generate` in otr/ (or `go run
// mont_amd64_gen.go`). The rows of the Montgomery product and square are
// the same few instructions over and over, so they are written out by
// this program rather than by hand; see mont_amd64.go for what the two
// functions compute.
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func ins(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }
func label(l string)                 { fmt.Fprintf(&out, "%s:\n", l) }
func comment(s string)               { fmt.Fprintf(&out, "\t// %s\n", s) }

// hiRegs hold the high word of the previous product and of this one, in
// turn: after step k the newest high word is in hiRegs[(k+1)%2].
var hiRegs = [2]string{"BX", "R14"}

// mulAddStep adds src·DX into the word of t at dst: the low word on CF,
// the previous product's high word on OF.
func mulAddStep(k int, src, dst string) {
	prev, cur := hiRegs[k%2], hiRegs[(k+1)%2]
	ins("MULXQ %s, AX, %s", src, cur)
	ins("MOVQ %s, DI", dst)
	ins("ADCXQ AX, DI")
	ins("ADOXQ %s, DI", prev)
	ins("MOVQ DI, %s", dst)
}

// rowLoop is the four-word loop of a row: src and dst are end registers
// indexed by CX (negative, a multiple of 4, stepping up to 0); disp is
// dst's displacement and first the step the loop starts at. It falls
// through with CX = 0 to the label name+"done", which it places unless
// the caller does (to jump there past an empty loop).
func rowLoop(name, src, dst string, disp, first int, placeDone bool) {
	label(name + "loop")
	for k := range 4 {
		mulAddStep(first+k, fmt.Sprintf("%d(%s)(CX*8)", 8*k, src), fmt.Sprintf("%d(%s)(CX*8)", disp+8*k, dst))
	}
	ins("LEAQ 4(CX), CX // LEAQ, JCXZQ and JMP leave CF and OF alone")
	ins("JCXZQ %sdone", name)
	ins("JMP %sloop", name)
	if placeDone {
		label(name + "done")
	}
}

// zeroFrame clears the accumulator, 2n+4 words from 0(SP), n in nreg.
func zeroFrame(name, nreg string) {
	ins("LEAQ 0(SP), DI")
	ins("LEAQ 4(%s)(%s*1), CX", nreg, nreg)
	ins("XORQ AX, AX")
	label(name)
	for k := range 4 {
		ins("MOVQ AX, %d(DI)", 8*k)
	}
	ins("LEAQ 32(DI), DI")
	ins("SUBQ $4, CX")
	ins("JNZ %s", name)
}

// final writes z = r − m if that does not borrow, else r, where r is
// t[n:2n] with t[2n] above it (R11 = &t[2n], R8 = m + 8n, R9 = −n), both
// computed and chosen by a carry mask, never a branch; then it wipes t.
func final(name, zArg, nArg string) {
	comment("z = t[n:2n] + t[2n]·R − m, unless that borrows: then t[n:2n].")
	ins("MOVQ %s, R13", nArg)
	ins("MOVQ %s, R12", zArg)
	ins("LEAQ (R12)(R13*8), R12")
	ins("MOVQ R9, CX")
	ins("XORQ AX, AX // CF = 0")
	label(name + "subloop")
	for k := range 4 {
		ins("MOVQ %d(R11)(CX*8), AX", 8*k)
		ins("SBBQ %d(R8)(CX*8), AX", 8*k)
		ins("MOVQ AX, %d(R12)(CX*8)", 8*k)
	}
	ins("LEAQ 4(CX), CX")
	ins("JCXZQ %ssubdone", name)
	ins("JMP %ssubloop", name)
	label(name + "subdone")
	ins("MOVQ 0(R11), AX")
	ins("SBBQ $0, AX // CF set: the value was below m, keep it")
	ins("MOVQ R9, CX")
	label(name + "selloop")
	for k := range 4 {
		ins("MOVQ %d(R12)(CX*8), AX", 8*k)
		ins("CMOVQCS %d(R11)(CX*8), AX", 8*k)
		ins("MOVQ AX, %d(R12)(CX*8)", 8*k)
	}
	ins("LEAQ 4(CX), CX // CMOVQCS, MOVQ and LEAQ leave CF alone")
	ins("JCXZQ %sseldone", name)
	ins("JMP %sselloop", name)
	label(name + "seldone")
	comment("Wipe the accumulator.")
	zeroFrame(name+"wipe", "R13")
}

// carry2 ends a row of the product: t[i+n] += hi + CF + OF, and the two
// carries out go into t[i+n+1] (R11 = &t[i+n]).
func carry2() {
	ins("MOVQ $0, AX")
	ins("MOVQ 0(R11), DI")
	ins("ADCXQ AX, DI")
	ins("ADOXQ BX, DI")
	ins("MOVQ DI, 0(R11)")
	ins("MOVQ 8(R11), DI")
	ins("ADCXQ AX, DI")
	ins("ADOXQ AX, DI")
	ins("MOVQ DI, 8(R11)")
}

func genMul() {
	out.WriteString(`
// func montMulADX(z, x, y, m *uint64, n int, k0 uint64)
//
// Coarsely integrated operand scanning on a sliding accumulator t (the
// frame, 2n+4 words): for each word y[i] one row adds x·y[i] and one row
// adds u·m with u = t[i]·k0 into t[i..i+n+1], which makes t[i] zero, so
// no shift is needed; t[n:2n+1] is then x·y·R⁻¹ (mod m), below 2m.
//
// SI = x + 8n and R8 = m + 8n (ends, indexed by CX from −n), R11 =
// &t[i+n], R12 = &y[i], R13 = rows left, R9 = −n, R10 = k0, DX = the
// row's multiplier, AX = a low word, BX and R14 = high words, DI = the
// word of t being updated.
TEXT ·montMulADX(SB), 0, $1056-48
`)
	ins("MOVQ n+32(FP), R9")
	zeroFrame("mulzero", "R9")
	ins("LEAQ 0(SP), R11")
	ins("LEAQ (R11)(R9*8), R11")
	ins("MOVQ x+8(FP), SI")
	ins("LEAQ (SI)(R9*8), SI")
	ins("MOVQ m+24(FP), R8")
	ins("LEAQ (R8)(R9*8), R8")
	ins("MOVQ y+16(FP), R12")
	ins("MOVQ k0+40(FP), R10")
	ins("MOVQ R9, R13")
	ins("NEGQ R9")
	label("mulouter")
	comment("t += x·y[i]")
	ins("MOVQ 0(R12), DX")
	ins("MOVQ R9, CX")
	ins("XORQ BX, BX // high word 0; clears CF and OF")
	rowLoop("mulx", "SI", "R11", 0, 0, true)
	carry2()
	comment("t += u·m with u = t[i]·k0 mod 2⁶⁴, which makes t[i] zero")
	ins("MOVQ 0(R11)(R9*8), DX")
	ins("IMULQ R10, DX")
	ins("MOVQ R9, CX")
	ins("XORQ BX, BX")
	rowLoop("mulred", "R8", "R11", 0, 0, true)
	carry2()
	ins("LEAQ 8(R11), R11")
	ins("LEAQ 8(R12), R12")
	ins("DECQ R13")
	ins("JNZ mulouter")
	final("mul", "z+0(FP)", "n+32(FP)")
	ins("RET")
}

func genSqr() {
	out.WriteString(`
// func montSqrADX(z, x, m *uint64, n int, k0 uint64)
//
// x²·R⁻¹ mod m with about three quarters of the product's work: the
// products x[i]·x[j] for i < j once each (rows of n−1−i words; each row
// starts with the 3−(i mod 4) words up to the next multiple of four and
// goes on four at a time), then all of t doubled with the squares x[i]²
// added in one pass, then n reduction rows of u·m, whose carry out of
// t[i+n] is kept in R12 for the next row (t's top half is full here).
//
// SI = x + 8n, R12 = &x[4a] (a block of four rows), R11 = &t[4a+n],
// R13 = −(n−4a), R8 = m + 8n, R9 = −n, R10 = k0; in the reduction R11 =
// &t[i+n], R12 = the carry, R13 = rows left.
TEXT ·montSqrADX(SB), 0, $1056-40
`)
	ins("MOVQ n+24(FP), R9")
	zeroFrame("sqrzero", "R9")
	ins("MOVQ x+8(FP), R12")
	ins("LEAQ (R12)(R9*8), SI")
	ins("MOVQ m+16(FP), R8")
	ins("LEAQ (R8)(R9*8), R8")
	ins("MOVQ k0+32(FP), R10")
	ins("LEAQ 0(SP), R11")
	ins("LEAQ (R11)(R9*8), R11")
	ins("MOVQ R9, R13")
	ins("NEGQ R13")
	ins("NEGQ R9")
	label("sqrblock")
	for b := range 4 {
		p := 3 - b // words before the next multiple of four
		comment(fmt.Sprintf("row i = 4a+%d: t[2i+1 : i+n] += x[i]·x[i+1:n], carry stored in t[i+n]", b))
		ins("MOVQ %d(R12), DX", 8*b)
		ins("LEAQ %d(R13), CX // −(n−1−i)", 1+b)
		ins("XORQ BX, BX")
		for k := range p {
			mulAddStep(k, fmt.Sprintf("%d(SI)(CX*8)", 8*k), fmt.Sprintf("%d(R11)(CX*8)", 8*b+8*k))
		}
		if p > 0 {
			ins("LEAQ %d(CX), CX", p)
		}
		name := fmt.Sprintf("sqrrow%d", b)
		ins("JCXZQ %sdone", name)
		rowLoop(name, "SI", "R11", 8*b, p, false)
		label(name + "done")
		hi := hiRegs[p%2]
		ins("MOVQ $0, AX")
		ins("ADCXQ AX, %s", hi)
		ins("ADOXQ AX, %s", hi)
		ins("MOVQ %s, %d(R11)", hi, 8*b)
	}
	ins("LEAQ 32(R12), R12")
	ins("LEAQ 32(R11), R11")
	ins("ADDQ $4, R13")
	ins("JNZ sqrblock")

	comment("t = 2t + Σ x[i]²·2^(128i): doubling on CF, the squares on OF")
	ins("LEAQ 0(SP), R11")
	ins("MOVQ R9, CX")
	ins("XORQ AX, AX")
	label("sqrdiagloop")
	for k := range 4 {
		ins("MOVQ %d(SI)(CX*8), DX", 8*k)
		ins("MULXQ DX, AX, BX")
		ins("MOVQ %d(R11), DI", 16*k)
		ins("ADCXQ DI, DI")
		ins("ADOXQ AX, DI")
		ins("MOVQ DI, %d(R11)", 16*k)
		ins("MOVQ %d(R11), DI", 16*k+8)
		ins("ADCXQ DI, DI")
		ins("ADOXQ BX, DI")
		ins("MOVQ DI, %d(R11)", 16*k+8)
	}
	ins("LEAQ 64(R11), R11")
	ins("LEAQ 4(CX), CX")
	ins("JCXZQ sqrdiagdone")
	ins("JMP sqrdiagloop")
	label("sqrdiagdone")

	comment("reduction: n rows t += u·m, u = t[i]·k0")
	ins("LEAQ 0(SP), R11")
	ins("MOVQ n+24(FP), R13")
	ins("LEAQ (R11)(R13*8), R11")
	ins("XORQ R12, R12")
	label("sqrred")
	ins("MOVQ 0(R11)(R9*8), DX")
	ins("IMULQ R10, DX")
	ins("MOVQ R9, CX")
	ins("XORQ BX, BX")
	rowLoop("sqrredrow", "R8", "R11", 0, 0, true)
	ins("MOVQ 0(R11), DI")
	ins("ADCXQ BX, DI")
	ins("ADOXQ R12, DI")
	ins("MOVQ DI, 0(R11)")
	ins("MOVQ $0, R12")
	ins("ADCXQ R12, R12")
	ins("MOVQ $0, AX")
	ins("ADOXQ AX, R12")
	ins("LEAQ 8(R11), R11")
	ins("DECQ R13")
	ins("JNZ sqrred")
	ins("MOVQ R12, 0(R11) // the top word, t[2n]")
	final("sqr", "z+0(FP)", "n+24(FP)")
	ins("RET")
}

func main() {
	out.WriteString(`// Code generated by mont_amd64_gen.go; DO NOT EDIT.

//go:build amd64 && !purego

#include "textflag.h"

// Montgomery multiplication and squaring with MULX, ADCX and ADOX (BMI2 +
// ADX); see mont_amd64.go. In a row, MULX gives the low and high word of
// each product; ADCX adds the low words on the carry flag and ADOX the
// previous high word on the overflow flag: two independent carry chains.
// Loops step with LEAQ and end with JCXZQ, which touch neither flag. The
// accumulator is this function's own frame, cleared before and after.
// Every instruction runs the same way whatever the values.
`)
	genMul()
	genSqr()
	if err := os.WriteFile("mont_amd64.s", []byte(out.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
