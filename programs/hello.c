/*
 * hello: the cloudabi-run(1) man page program. Its argdata is a seq of
 * descriptors; it writes "Hello, world\n" to each. Exit status: 0, or 1 if
 * the argdata is not a seq or an element is not a usable descriptor or a
 * write fails.
 */
#include "argdata.h"

int main(const void *argdata, size_t argdata_len)
{
	static const char msg[] = "Hello, world\n";
	struct ad_value root = {argdata, argdata_len};
	struct ad_iter it;
	struct ad_value elem;
	int status = 0;

	if (ad_seq_iter(root, &it) != 0)
		return 1;
	while (ad_iter_next(&it, &elem)) {
		cloudabi_fd_t fd;
		if (ad_get_fd(elem, &fd) != 0 || write_all(fd, msg, sizeof(msg) - 1) != 0)
			status = 1;
	}
	return it.error ? 1 : status;
}
