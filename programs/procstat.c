/*
 * procstat: reports the program's own descriptor table. Argdata is a map;
 * the report goes to the descriptor under the key "out". It calls
 * fd_stat_get on 0, 1, 2, ... until EBADF and prints one line per open
 * descriptor:
 *   fd N: type T flags 0xF base 0xB inheriting 0xI
 * Another errno prints "fd N: error E" and also ends the walk.
 * Exit status: 0, 2 without a usable "out", 1 if a write fails.
 */
#include "argdata.h"

int main(const void *argdata, size_t argdata_len)
{
	struct ad_value root = {argdata, argdata_len}, v;
	cloudabi_fd_t out;
	struct outbuf o;

	if (!ad_map_find(root, "out", &v) || ad_get_fd(v, &out) != 0)
		return 2;
	out_init(&o, out);
	for (cloudabi_fd_t fd = 0; fd < 0x10000; ++fd) {
		cloudabi_fdstat_t st;
		cloudabi_errno_t e = cloudabi_sys_fd_stat_get(fd, &st);
		if (e == CLOUDABI_EBADF)
			break;
		out_str(&o, "fd ");
		out_dec(&o, fd);
		if (e != 0) {
			out_str(&o, ": error ");
			out_dec(&o, e);
			out_str(&o, "\n");
			break;
		}
		out_str(&o, ": type ");
		out_dec(&o, st.fs_filetype);
		out_str(&o, " flags ");
		out_hex(&o, st.fs_flags);
		out_str(&o, " base ");
		out_hex(&o, st.fs_rights_base);
		out_str(&o, " inheriting ");
		out_hex(&o, st.fs_rights_inheriting);
		out_str(&o, "\n");
	}
	return out_flush(&o) == 0 ? 0 : 1;
}
