/*
 * loop: a benchmark load. Argdata is a map {out: !fd, count: N}; it makes
 * N fd_write calls of one empty buffer to `out` and exits 0, or 1 at the
 * first failing call (2 for a malformed map).
 */
#include "argdata.h"

int main(const void *argdata, size_t argdata_len)
{
	struct ad_value root = {argdata, argdata_len}, v;
	cloudabi_fd_t out;
	int64_t count;

	if (!ad_map_find(root, "out", &v) || ad_get_fd(v, &out) != 0)
		return 2;
	if (!ad_map_find(root, "count", &v) || ad_get_int(v, &count) != 0)
		return 2;
	for (int64_t i = 0; i < count; ++i) {
		cloudabi_ciovec_t iov = {"", 0};
		size_t n;
		if (cloudabi_sys_fd_write(out, &iov, 1, &n) != 0)
			return 1;
	}
	return 0;
}
