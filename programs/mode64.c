/*
 * mode64: what a hostile program can do from 64-bit mode. An i386 process
 * on x86_64 Linux may far-jump to the 64-bit user code segment (selector
 * 0x33); this program does, to check that the runner keeps it confined.
 *
 * Argdata: a map {out: !fd, do: N, program: !fd (for do 3)}.
 *   do 0, 1, 2: calls the legacy vsyscall page's gettimeofday, time or
 *               getcpu (0xffffffffff600000 + N * 0x400) from 64-bit mode and
 *               writes "vsyscall N returned R" to `out`: a host kernel
 *               result. A confined program never gets there.
 *   do 3:       calls proc_exec from 64-bit mode (int $0x80), starting
 *               `program` with argdata {out: !fd 0, do: 4} and `out` as
 *               descriptor 0; writes "exec errno E" if it returns.
 *   do 4:       writes "cs C" with its code segment selector (0x23 = 35 is
 *               the 32-bit user code segment).
 * Exit status 0, or 2 for a malformed map.
 */
#include "argdata.h"

/* Calls vsyscall entry `which` from 64-bit mode with rdi = arg, rsi = 0,
 * rdx = 0; returns the low half of rax. */
uint32_t vsyscall64(uint32_t which, void *arg);
/* proc_exec from 64-bit mode with the trap frame at `frame` (frame[0] is the
 * return address slot, frame[1..6] the five arguments); returns eax. */
uint32_t proc_exec64(const uint32_t *frame);

__asm__(
	"	.text\n"
	"	.globl vsyscall64\n"
	"vsyscall64:\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	pushl %ebp\n"
	"	movl 20(%esp), %ebx\n"
	"	movl 24(%esp), %edi\n"
	/* The far return frame lretq takes back to 32-bit mode: rip, cs. */
	"	pushl $0\n"
	"	pushl $0x23\n"
	"	pushl $0\n"
	"	pushl $2f\n"
	"	ljmp $0x33, $1f\n"
	"	.code64\n"
	"1:	movl %esp, %esp\n"
	"	movl %ebx, %ebx\n"
	"	movl %edi, %edi\n"
	"	movq %rsp, %rbp\n"
	"	shlq $10, %rbx\n"
	"	movabsq $0xffffffffff600000, %rax\n"
	"	addq %rbx, %rax\n"
	"	xorl %esi, %esi\n"
	"	xorl %edx, %edx\n"
	"	andq $-16, %rsp\n"
	"	call *%rax\n"
	"	movq %rbp, %rsp\n"
	"	lretq\n"
	"	.code32\n"
	"2:	popl %ebp\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	ret\n"
	"	.globl proc_exec64\n"
	"proc_exec64:\n"
	"	pushl %ebp\n"
	"	movl %esp, %ebp\n"
	"	movl 8(%esp), %ecx\n"
	"	pushl $0\n"
	"	pushl $0x23\n"
	"	pushl $0\n"
	"	pushl $4f\n"
	"	movl %esp, %edx\n"
	"	ljmp $0x33, $3f\n"
	"	.code64\n"
	"3:	movl %ecx, %esp\n"
	"	movl $38, %eax\n"
	"	int $0x80\n"
	"	movl %edx, %esp\n"
	"	lretq\n"
	"	.code32\n"
	"4:	popl %ebp\n"
	"	ret\n");

/* {out: !fd 0, do: 4} */
static const uint8_t report_cs[] = {
	0x06,
	0x85, 0x08, 'o', 'u', 't', 0, 0x85, 0x03, 0, 0, 0, 0,
	0x84, 0x08, 'd', 'o', 0, 0x82, 0x05, 0x04,
};

int main(const void *argdata, size_t argdata_len)
{
	struct ad_value root = {argdata, argdata_len}, v;
	struct outbuf o;
	cloudabi_fd_t out, program;
	int64_t what;

	if (!ad_map_find(root, "out", &v) || ad_get_fd(v, &out) != 0)
		return 2;
	if (!ad_map_find(root, "do", &v) || ad_get_int(v, &what) != 0)
		return 2;
	out_init(&o, out);
	if (what >= 0 && what <= 2) {
		uint32_t buf[4] = {0, 0, 0, 0};
		uint32_t r = vsyscall64((uint32_t)what, buf);
		out_str(&o, "vsyscall ");
		out_dec(&o, (uint64_t)what);
		out_str(&o, " returned ");
		out_dec(&o, r);
		out_str(&o, "\n");
	} else if (what == 3) {
		cloudabi_fd_t fds[1];
		uint32_t frame[6];
		if (!ad_map_find(root, "program", &v) || ad_get_fd(v, &program) != 0)
			return 2;
		fds[0] = out;
		frame[0] = 0;
		frame[1] = program;
		frame[2] = (uint32_t)report_cs;
		frame[3] = sizeof(report_cs);
		frame[4] = (uint32_t)fds;
		frame[5] = 1;
		out_str(&o, "exec errno ");
		out_dec(&o, proc_exec64(frame));
		out_str(&o, "\n");
	} else if (what == 4) {
		uint32_t cs;
		__asm__ volatile("movl %%cs, %0" : "=r"(cs));
		out_str(&o, "cs ");
		out_dec(&o, cs);
		out_str(&o, "\n");
	} else {
		return 2;
	}
	out_flush(&o);
	return 0;
}
