//go:build amd64 && !purego

#include "textflag.h"

// Montgomery multiplication with MULX, ADCX and ADOX (BMI2 + ADX); see
// mont_amd64.go. Coarsely integrated operand scanning on a sliding
// accumulator: for each word y[i], one row adds x·y[i] and one row adds
// u·m with u = t[i]·k0, both into t[i..i+n+1], so t[i] becomes zero and
// no shift is needed. In a row MULX gives the low and high word of each
// product; ADCX adds the low words on the carry flag and ADOX the high
// word of the previous product on the overflow flag: two independent
// carry chains. The loop steps with LEAQ and ends with JCXZQ, which touch
// neither flag. Every instruction runs the same way whatever the values.
//
// Registers: SI = x + 8n, R8 = m + 8n (ends, indexed by CX = -n … 0),
// R11 = &t[i+n], R12 = &y[i], R13 = words left, R9 = -n, R10 = k0,
// DX = the row's multiplier, AX = low word, BX / R14 = high words,
// DI = the word of t being updated.

// func montMulADX(t, x, y, m *uint64, n int, k0 uint64)
TEXT ·montMulADX(SB), NOSPLIT, $0-48
	MOVQ n+32(FP), R9
	MOVQ t+0(FP), R11
	LEAQ (R11)(R9*8), R11
	MOVQ x+8(FP), SI
	LEAQ (SI)(R9*8), SI
	MOVQ m+24(FP), R8
	LEAQ (R8)(R9*8), R8
	MOVQ y+16(FP), R12
	MOVQ k0+40(FP), R10
	MOVQ R9, R13
	NEGQ R9

outer:
	// t += x·y[i]
	MOVQ 0(R12), DX
	MOVQ R9, CX
	XORQ BX, BX // hi = 0; clears CF and OF
mulxloop:
	MULXQ 0(SI)(CX*8), AX, R14
	MOVQ 0(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ BX, DI
	MOVQ DI, 0(R11)(CX*8)
	MULXQ 8(SI)(CX*8), AX, BX
	MOVQ 8(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ R14, DI
	MOVQ DI, 8(R11)(CX*8)
	MULXQ 16(SI)(CX*8), AX, R14
	MOVQ 16(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ BX, DI
	MOVQ DI, 16(R11)(CX*8)
	MULXQ 24(SI)(CX*8), AX, BX
	MOVQ 24(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ R14, DI
	MOVQ DI, 24(R11)(CX*8)
	LEAQ 4(CX), CX // LEAQ and JCXZQ leave CF and OF alone
	JCXZQ mulxdone
	JMP mulxloop
mulxdone:
	// t[i+n] += hi + CF + OF; the carries go into t[i+n+1].
	MOVQ $0, AX
	MOVQ 0(R11), DI
	ADCXQ AX, DI
	ADOXQ BX, DI
	MOVQ DI, 0(R11)
	MOVQ 8(R11), DI
	ADCXQ AX, DI
	ADOXQ AX, DI
	MOVQ DI, 8(R11)
	// t += u·m, u = t[i]·k0 mod 2⁶⁴, which makes t[i] zero
	MOVQ 0(R11)(R9*8), DX
	IMULQ R10, DX
	MOVQ R9, CX
	XORQ BX, BX // hi = 0; clears CF and OF
redloop:
	MULXQ 0(R8)(CX*8), AX, R14
	MOVQ 0(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ BX, DI
	MOVQ DI, 0(R11)(CX*8)
	MULXQ 8(R8)(CX*8), AX, BX
	MOVQ 8(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ R14, DI
	MOVQ DI, 8(R11)(CX*8)
	MULXQ 16(R8)(CX*8), AX, R14
	MOVQ 16(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ BX, DI
	MOVQ DI, 16(R11)(CX*8)
	MULXQ 24(R8)(CX*8), AX, BX
	MOVQ 24(R11)(CX*8), DI
	ADCXQ AX, DI
	ADOXQ R14, DI
	MOVQ DI, 24(R11)(CX*8)
	LEAQ 4(CX), CX // LEAQ and JCXZQ leave CF and OF alone
	JCXZQ reddone
	JMP redloop
reddone:
	// t[i+n] += hi + CF + OF; the carries go into t[i+n+1].
	MOVQ $0, AX
	MOVQ 0(R11), DI
	ADCXQ AX, DI
	ADOXQ BX, DI
	MOVQ DI, 0(R11)
	MOVQ 8(R11), DI
	ADCXQ AX, DI
	ADOXQ AX, DI
	MOVQ DI, 8(R11)
	LEAQ 8(R11), R11
	LEAQ 8(R12), R12
	DECQ R13
	JNZ outer
	RET
