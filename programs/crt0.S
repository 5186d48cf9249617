/*
 * Program entry for CloudABI on i386. On entry [esp] holds the TCB pointer
 * (in the slot a return address would take) and [esp+4] the pointer to the
 * auxiliary vector, so _start looks like a cdecl function `_start(auxv)`.
 * It realigns the stack to 16 bytes and hands both to __crt0_main (rt.c),
 * which never returns.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	movl (%esp), %eax          /* TCB pointer */
	movl 4(%esp), %ecx         /* auxv pointer */
	xorl %ebp, %ebp            /* outermost frame */
	andl $-16, %esp
	subl $8, %esp
	pushl %eax
	pushl %ecx
	call __crt0_main
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
