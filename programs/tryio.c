/*
 * tryio: tries a write on descriptors and reports each result, so a test can
 * see what a descriptor's rights allow. Argdata is a map
 * {out: !fd, write: [!fd, ...]}; for each element of `write` it makes one
 * fd_write of "tryio\n" and reports "write K errno E" on `out` (K the
 * element's index, E 0 on success, 76 ENOTCAPABLE without FD_WRITE).
 * Exit status: 0, 2 for a malformed map, 1 if the report cannot be written.
 */
#include "argdata.h"

int main(const void *argdata, size_t argdata_len)
{
	static const char msg[] = "tryio\n";
	struct ad_value root = {argdata, argdata_len}, v, elem;
	struct ad_iter it;
	struct outbuf o;
	cloudabi_fd_t out;
	uint64_t k = 0;

	if (!ad_map_find(root, "out", &v) || ad_get_fd(v, &out) != 0)
		return 2;
	if (!ad_map_find(root, "write", &v) || ad_seq_iter(v, &it) != 0)
		return 2;
	out_init(&o, out);
	while (ad_iter_next(&it, &elem)) {
		cloudabi_fd_t fd;
		cloudabi_errno_t e = ad_get_fd(elem, &fd);
		if (e == 0) {
			cloudabi_ciovec_t iov = {msg, sizeof(msg) - 1};
			size_t n;
			e = cloudabi_sys_fd_write(fd, &iov, 1, &n);
		}
		out_str(&o, "write ");
		out_dec(&o, k++);
		out_str(&o, " errno ");
		out_dec(&o, e);
		out_str(&o, "\n");
	}
	return out_flush(&o) == 0 && !it.error ? 0 : 1;
}
