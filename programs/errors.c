/*
 * errors: drives the error paths of the descriptor system calls from real
 * code and reports each result on the descriptor under the key "out" of
 * its argdata map, one "name errno" line per check (0 = success):
 *
 *   dup 0                  fd_dup(out) gives d (a second dup gives e2)
 *   close 0                fd_close(d)
 *   close_again 8          fd_close(d) again: EBADF
 *   stat_closed 8          fd_stat_get(d): EBADF
 *   replace_closed 8       fd_replace(d, out): EBADF
 *   stat_put_narrow 0      on e2: drop FD_WRITE from its rights
 *   stat_put_widen 76      give FD_WRITE back: ENOTCAPABLE
 *   write_narrowed 76      fd_write to e2 without FD_WRITE: ENOTCAPABLE
 *   write_bad_buf 21       fd_write with a buffer at address 1: EFAULT
 *   write_bad_iov 21       fd_write with the iovec array at address 1: EFAULT
 *   stat_bad_ptr 21        fd_stat_get with its output at address 1: EFAULT
 *   exec_closed 8          proc_exec(program, ..., [out, d]) with d closed: EBADF
 *   after_exec 0           fd_stat_get(out) still works after the failed exec
 *   table_intact 0         fd_stat_get(e2) too; the table is unchanged
 *   random 0               random_get(buf, 16)
 *   gs_tcb 0               %gs:0 holds the TCB pointer crt0 found (1 if not)
 *
 * `program` (optional) is the executable for the exec check; without it
 * `out` is used, and the list check fails first either way. The `out`
 * descriptor's errors end the program with status 3; otherwise 0.
 */
#include "argdata.h"

static struct outbuf o;

static void line(const char *name, uint32_t e)
{
	out_str(&o, name);
	out_str(&o, " ");
	out_dec(&o, e);
	out_str(&o, "\n");
}

int main(const void *argdata, size_t argdata_len)
{
	struct ad_value root = {argdata, argdata_len}, v;
	cloudabi_fd_t out, program, d = 0, e2 = 0;
	cloudabi_fdstat_t st;
	cloudabi_errno_t e;
	size_t n;

	if (!ad_map_find(root, "out", &v) || ad_get_fd(v, &out) != 0)
		return 3;
	program = out;
	if (ad_map_find(root, "program", &v))
		ad_get_fd(v, &program);
	out_init(&o, out);

	/* Both duplicates first, so e2 cannot reuse d's number once d is closed. */
	line("dup", cloudabi_sys_fd_dup(out, &d));
	e = cloudabi_sys_fd_dup(out, &e2);
	line("close", cloudabi_sys_fd_close(d));
	line("close_again", cloudabi_sys_fd_close(d));
	line("stat_closed", cloudabi_sys_fd_stat_get(d, &st));
	line("replace_closed", cloudabi_sys_fd_replace(d, out));

	if (e == 0)
		e = cloudabi_sys_fd_stat_get(e2, &st);
	if (e == 0) {
		st.fs_rights_base &= ~CLOUDABI_RIGHT_FD_WRITE;
		st.fs_rights_inheriting = 0;
		e = cloudabi_sys_fd_stat_put(e2, &st, CLOUDABI_FDSTAT_RIGHTS);
	}
	line("stat_put_narrow", e);
	st.fs_rights_base |= CLOUDABI_RIGHT_FD_WRITE;
	line("stat_put_widen", cloudabi_sys_fd_stat_put(e2, &st, CLOUDABI_FDSTAT_RIGHTS));
	{
		cloudabi_ciovec_t iov = {"x", 1};
		line("write_narrowed", cloudabi_sys_fd_write(e2, &iov, 1, &n));
	}

	out_flush(&o);
	{
		cloudabi_ciovec_t iov = {(const void *)1, 4};
		line("write_bad_buf", cloudabi_sys_fd_write(out, &iov, 1, &n));
		line("write_bad_iov",
		     cloudabi_sys_fd_write(out, (const cloudabi_ciovec_t *)1, 1, &n));
		line("stat_bad_ptr", cloudabi_sys_fd_stat_get(out, (cloudabi_fdstat_t *)1));
	}

	{
		static const uint8_t args[] = {AD_SEQ};
		cloudabi_fd_t fds[2] = {out, d};
		out_flush(&o);
		line("exec_closed", cloudabi_sys_proc_exec(program, args, sizeof(args), fds, 2));
		line("after_exec", cloudabi_sys_fd_stat_get(out, &st));
		line("table_intact", cloudabi_sys_fd_stat_get(e2, &st));
	}

	{
		uint8_t buf[16];
		line("random", cloudabi_sys_random_get(buf, sizeof(buf)));
	}

	{
		void *gs0;
		__asm__ volatile("movl %%gs:0, %0" : "=r"(gs0));
		line("gs_tcb", gs0 == __crt0_tcb ? 0 : 1);
	}

	return out_flush(&o) == 0 ? 0 : 3;
}
