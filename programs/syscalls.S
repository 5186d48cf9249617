/*
 * CloudABI system call stubs for i386, in the shape of the vDSO: the number
 * goes in %eax, the arguments stay where the cdecl caller put them (the
 * kernel reads them as 32-bit words from 4(%esp)), and `int $0x80` traps.
 * Carry set: %eax is the errno and is returned as is. Carry clear: the
 * result in %eax (and %edx for a second word) is stored through the out
 * pointer argument and 0 is returned.
 */
	.text

/* A call with no result: return 0 or the errno. */
.macro CALL_NORESULT name, num
	.globl \name
	.type \name, @function
\name:
	movl $\num, %eax
	int $0x80
	jc 1f
	xorl %eax, %eax
1:
	ret
	.size \name, . - \name
.endm

/* A call with one 32-bit result stored through the argument at OUT(%esp). */
.macro CALL_RESULT name, num, out
	.globl \name
	.type \name, @function
\name:
	movl $\num, %eax
	int $0x80
	jc 1f
	movl \out(%esp), %ecx
	movl %eax, (%ecx)
	xorl %eax, %eax
1:
	ret
	.size \name, . - \name
.endm

CALL_NORESULT cloudabi_sys_fd_close, 3
CALL_RESULT   cloudabi_sys_fd_dup, 7, 8
CALL_RESULT   cloudabi_sys_fd_read, 10, 16
CALL_NORESULT cloudabi_sys_fd_replace, 11
CALL_NORESULT cloudabi_sys_fd_stat_get, 13
CALL_NORESULT cloudabi_sys_fd_stat_put, 14
CALL_RESULT   cloudabi_sys_fd_write, 16, 16
CALL_NORESULT cloudabi_sys_proc_exec, 38
CALL_NORESULT cloudabi_sys_random_get, 42

	.globl cloudabi_sys_proc_exit
	.type cloudabi_sys_proc_exit, @function
cloudabi_sys_proc_exit:
	movl $39, %eax
	int $0x80
	/* proc_exit does not return; crash loudly if it ever does. */
	ud2
	.size cloudabi_sys_proc_exit, . - cloudabi_sys_proc_exit

	.section .note.GNU-stack, "", @progbits
