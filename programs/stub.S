/*
 * The Linux i386 stub that native-runner starts under ptrace and then
 * fills with a CloudABI image. The tracer finds the `int $0x80` below by
 * scanning from the entry point and uses it to inject Linux system calls
 * (mmap2, mprotect, munmap). Run on its own, the stub just exits with
 * status 0. It is linked far from 0x08048000 (see build.sh) so that program
 * images can be mapped at their usual addresses.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	jmp 1f
	.globl stub_syscall
stub_syscall:
	int $0x80
	ud2
1:
	movl $1, %eax              /* Linux i386 exit */
	xorl %ebx, %ebx
	int $0x80
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
