//go:build amd64 && !purego

#include "textflag.h"

// Base-64 with AVX2; see b64_amd64.go. Each 128-bit lane works on its
// own 12 bytes / 16 characters: vpshufb does not cross lanes.

// Encoding: each lane's 12 bytes as four 32-bit words [b1 b0 b2 b1].
DATA encShuf<>+0(SB)/8, $0x0405030401020001
DATA encShuf<>+8(SB)/8, $0x0a0b090a07080607
DATA encShuf<>+16(SB)/8, $0x0405030401020001
DATA encShuf<>+24(SB)/8, $0x0a0b090a07080607
GLOBL encShuf<>(SB), RODATA|NOPTR, $32

// The four 6-bit fields of a word: two masks, two multiplications.
DATA encMask1<>+0(SB)/8, $0x0fc0fc000fc0fc00
DATA encMask1<>+8(SB)/8, $0x0fc0fc000fc0fc00
DATA encMask1<>+16(SB)/8, $0x0fc0fc000fc0fc00
DATA encMask1<>+24(SB)/8, $0x0fc0fc000fc0fc00
GLOBL encMask1<>(SB), RODATA|NOPTR, $32
DATA encMul1<>+0(SB)/8, $0x0400004004000040
DATA encMul1<>+8(SB)/8, $0x0400004004000040
DATA encMul1<>+16(SB)/8, $0x0400004004000040
DATA encMul1<>+24(SB)/8, $0x0400004004000040
GLOBL encMul1<>(SB), RODATA|NOPTR, $32
DATA encMask2<>+0(SB)/8, $0x003f03f0003f03f0
DATA encMask2<>+8(SB)/8, $0x003f03f0003f03f0
DATA encMask2<>+16(SB)/8, $0x003f03f0003f03f0
DATA encMask2<>+24(SB)/8, $0x003f03f0003f03f0
GLOBL encMask2<>(SB), RODATA|NOPTR, $32
DATA encMul2<>+0(SB)/8, $0x0100001001000010
DATA encMul2<>+8(SB)/8, $0x0100001001000010
DATA encMul2<>+16(SB)/8, $0x0100001001000010
DATA encMul2<>+24(SB)/8, $0x0100001001000010
GLOBL encMul2<>(SB), RODATA|NOPTR, $32

// 6-bit value v → character: v + shift[k], where k is 13 for v < 26
// ('A'), 0 for 26..51 ('a'-26), v-51 for 52..63 ('0'-52, '+'-62, '/'-63).
DATA enc51<>+0(SB)/8, $0x3333333333333333
DATA enc51<>+8(SB)/8, $0x3333333333333333
DATA enc51<>+16(SB)/8, $0x3333333333333333
DATA enc51<>+24(SB)/8, $0x3333333333333333
GLOBL enc51<>(SB), RODATA|NOPTR, $32
DATA enc26<>+0(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA enc26<>+8(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA enc26<>+16(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA enc26<>+24(SB)/8, $0x1a1a1a1a1a1a1a1a
GLOBL enc26<>(SB), RODATA|NOPTR, $32
DATA enc13<>+0(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA enc13<>+8(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA enc13<>+16(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA enc13<>+24(SB)/8, $0x0d0d0d0d0d0d0d0d
GLOBL enc13<>(SB), RODATA|NOPTR, $32
DATA encShift<>+0(SB)/8, $0xfcfcfcfcfcfcfc47
DATA encShift<>+8(SB)/8, $0x000041f0edfcfcfc
DATA encShift<>+16(SB)/8, $0xfcfcfcfcfcfcfc47
DATA encShift<>+24(SB)/8, $0x000041f0edfcfcfc
GLOBL encShift<>(SB), RODATA|NOPTR, $32

// func b64EncodeAVX2(dst, src []byte) int
TEXT ·b64EncodeAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), DX
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	XORQ AX, AX
	VMOVDQU encShuf<>(SB), Y8
	VMOVDQU encMask1<>(SB), Y9
	VMOVDQU encMul1<>(SB), Y10
	VMOVDQU encMask2<>(SB), Y11
	VMOVDQU encMul2<>(SB), Y12
	VMOVDQU enc51<>(SB), Y13
	VMOVDQU enc26<>(SB), Y14
	VMOVDQU enc13<>(SB), Y15
	VMOVDQU encShift<>(SB), Y7

encloop:
	CMPQ CX, $28
	JB   encdone
	CMPQ DX, $32
	JB   encdone
	VMOVDQU     (SI), X0
	VINSERTI128 $1, 12(SI), Y0, Y0
	VPSHUFB     Y8, Y0, Y0
	VPAND       Y9, Y0, Y1
	VPMULHUW    Y10, Y1, Y1
	VPAND       Y11, Y0, Y2
	VPMULLW     Y12, Y2, Y2
	VPOR        Y1, Y2, Y0  // the 6-bit values, in output order
	VPSUBUSB    Y13, Y0, Y1 // v-51, or 0
	VPCMPGTB    Y0, Y14, Y2 // v < 26
	VPAND       Y15, Y2, Y2
	VPOR        Y2, Y1, Y1
	VPSHUFB     Y1, Y7, Y1
	VPADDB      Y0, Y1, Y0
	VMOVDQU     Y0, (DI)
	ADDQ        $24, SI
	SUBQ        $24, CX
	ADDQ        $32, DI
	SUBQ        $32, DX
	ADDQ        $24, AX
	JMP         encloop

encdone:
	VZEROUPPER
	MOVQ AX, ret+48(FP)
	RET

// Decoding: a character is in the alphabet iff lo[c&15] & hi[c>>4] is
// 0; its value is c + roll[(c>>4) - (c == '/')].
DATA decLo<>+0(SB)/8, $0x1111111111111115
DATA decLo<>+8(SB)/8, $0x1a1b1b1b1a131111
DATA decLo<>+16(SB)/8, $0x1111111111111115
DATA decLo<>+24(SB)/8, $0x1a1b1b1b1a131111
GLOBL decLo<>(SB), RODATA|NOPTR, $32
DATA decHi<>+0(SB)/8, $0x0804080402011010
DATA decHi<>+8(SB)/8, $0x1010101010101010
DATA decHi<>+16(SB)/8, $0x0804080402011010
DATA decHi<>+24(SB)/8, $0x1010101010101010
GLOBL decHi<>(SB), RODATA|NOPTR, $32
DATA decRoll<>+0(SB)/8, $0xb9b9bfbf04131000
DATA decRoll<>+8(SB)/8, $0x0000000000000000
DATA decRoll<>+16(SB)/8, $0xb9b9bfbf04131000
DATA decRoll<>+24(SB)/8, $0x0000000000000000
GLOBL decRoll<>(SB), RODATA|NOPTR, $32
DATA dec0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA dec0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA dec0f<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA dec0f<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL dec0f<>(SB), RODATA|NOPTR, $32
DATA dec2f<>+0(SB)/8, $0x2f2f2f2f2f2f2f2f
DATA dec2f<>+8(SB)/8, $0x2f2f2f2f2f2f2f2f
DATA dec2f<>+16(SB)/8, $0x2f2f2f2f2f2f2f2f
DATA dec2f<>+24(SB)/8, $0x2f2f2f2f2f2f2f2f
GLOBL dec2f<>(SB), RODATA|NOPTR, $32

// Packing: pairs of 6-bit values into 12 bits, pairs of those into 24,
// then the three bytes of each word in order, then the lanes together.
DATA decMerge1<>+0(SB)/8, $0x0140014001400140
DATA decMerge1<>+8(SB)/8, $0x0140014001400140
DATA decMerge1<>+16(SB)/8, $0x0140014001400140
DATA decMerge1<>+24(SB)/8, $0x0140014001400140
GLOBL decMerge1<>(SB), RODATA|NOPTR, $32
DATA decMerge2<>+0(SB)/8, $0x0001100000011000
DATA decMerge2<>+8(SB)/8, $0x0001100000011000
DATA decMerge2<>+16(SB)/8, $0x0001100000011000
DATA decMerge2<>+24(SB)/8, $0x0001100000011000
GLOBL decMerge2<>(SB), RODATA|NOPTR, $32
DATA decPack<>+0(SB)/8, $0x090a040506000102
DATA decPack<>+8(SB)/8, $0xffffffff0c0d0e08
DATA decPack<>+16(SB)/8, $0x090a040506000102
DATA decPack<>+24(SB)/8, $0xffffffff0c0d0e08
GLOBL decPack<>(SB), RODATA|NOPTR, $32
DATA decPerm<>+0(SB)/8, $0x0000000100000000
DATA decPerm<>+8(SB)/8, $0x0000000400000002
DATA decPerm<>+16(SB)/8, $0x0000000600000005
DATA decPerm<>+24(SB)/8, $0x0000000700000003
GLOBL decPerm<>(SB), RODATA|NOPTR, $32

// func b64DecodeAVX2(dst, src []byte) int
TEXT ·b64DecodeAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), DX
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	XORQ AX, AX
	VMOVDQU decLo<>(SB), Y8
	VMOVDQU decHi<>(SB), Y9
	VMOVDQU decRoll<>(SB), Y10
	VMOVDQU dec0f<>(SB), Y11
	VMOVDQU dec2f<>(SB), Y12
	VMOVDQU decMerge1<>(SB), Y13
	VMOVDQU decMerge2<>(SB), Y14
	VMOVDQU decPack<>(SB), Y15
	VMOVDQU decPerm<>(SB), Y7

decloop:
	CMPQ CX, $32
	JB   decdone
	CMPQ DX, $32
	JB   decdone
	VMOVDQU  (SI), Y0
	VPSRLD   $4, Y0, Y1
	VPAND    Y11, Y1, Y1 // high nibbles
	VPAND    Y11, Y0, Y2 // low nibbles
	VPSHUFB  Y2, Y8, Y2
	VPSHUFB  Y1, Y9, Y3
	VPTEST   Y2, Y3
	JNZ      decdone     // something outside the alphabet in this block
	VPCMPEQB Y12, Y0, Y4 // '/'
	VPADDB   Y4, Y1, Y4
	VPSHUFB  Y4, Y10, Y4
	VPADDB   Y4, Y0, Y0  // the 6-bit values
	VPMADDUBSW Y13, Y0, Y0
	VPMADDWD Y14, Y0, Y0
	VPSHUFB  Y15, Y0, Y0
	VPERMD   Y0, Y7, Y0
	VMOVDQU  Y0, (DI)
	ADDQ     $32, SI
	SUBQ     $32, CX
	ADDQ     $24, DI
	SUBQ     $24, DX
	ADDQ     $32, AX
	JMP      decloop

decdone:
	VZEROUPPER
	MOVQ AX, ret+48(FP)
	RET
