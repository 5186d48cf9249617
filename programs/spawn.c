/*
 * spawn: a real program that remaps descriptors for another one.
 *
 * Argdata: a map {program: !fd, pass: [!fd, ...], args: <any value>,
 * err: !fd (optional)}. It builds the new descriptor list and argdata and
 * calls proc_exec(program, data, len, fds, n). CloudABI's rule is that
 * descriptor i of the new program is fds[i] of the caller, so:
 *   - fds starts with `pass` in order: pass[k] becomes descriptor k, even if
 *     a descriptor is listed twice;
 *   - the new argdata is the `args` value with every fd node rewritten to
 *     its index in fds (depth first, map key before value); a descriptor of
 *     `args` not in `pass` is appended on first appearance, so `args` may
 *     name descriptors without listing them in `pass`;
 *   - the program descriptor is passed on only if `pass` or `args` names it.
 * If proc_exec returns, "spawn: proc_exec: errno N" goes to `err` (when
 * given) and the exit status is 1; a malformed map exits with 2.
 */
#include "argdata.h"

static uint8_t data[65536];

static void report(struct ad_value root, const char *what, cloudabi_errno_t e)
{
	struct ad_value v;
	cloudabi_fd_t err;
	struct outbuf o;
	if (!ad_map_find(root, "err", &v) || ad_get_fd(v, &err) != 0)
		return;
	out_init(&o, err);
	out_str(&o, "spawn: ");
	out_str(&o, what);
	out_str(&o, ": errno ");
	out_dec(&o, e);
	out_str(&o, "\n");
	out_flush(&o);
}

int main(const void *argdata, size_t argdata_len)
{
	struct ad_value root = {argdata, argdata_len}, v, elem;
	struct ad_iter it;
	struct ad_fdlist list = {.len = 0};
	cloudabi_fd_t program;
	cloudabi_errno_t e;
	size_t data_len = 0;

	if (!ad_map_find(root, "program", &v) || ad_get_fd(v, &program) != 0) {
		report(root, "no program descriptor", CLOUDABI_EINVAL);
		return 2;
	}
	if (ad_map_find(root, "pass", &v)) {
		if (ad_seq_iter(v, &it) != 0) {
			report(root, "pass is not a seq", CLOUDABI_EINVAL);
			return 2;
		}
		while (ad_iter_next(&it, &elem)) {
			cloudabi_fd_t fd;
			e = ad_get_fd(elem, &fd);
			if (e == 0 && list.len == sizeof(list.fds) / sizeof(list.fds[0]))
				e = CLOUDABI_E2BIG;
			if (e != 0) {
				report(root, "bad pass entry", e);
				return 2;
			}
			list.fds[list.len++] = fd;
		}
		if (it.error) {
			report(root, "malformed pass", CLOUDABI_EINVAL);
			return 2;
		}
	}
	if (ad_map_find(root, "args", &v)) {
		if (v.len > sizeof(data)) {
			report(root, "args too long", CLOUDABI_E2BIG);
			return 2;
		}
		memcpy(data, v.buf, v.len);
		data_len = v.len;
		e = ad_rewrite_fds(data, data_len, &list);
		if (e != 0) {
			report(root, "too many descriptors", e);
			return 2;
		}
	}
	e = cloudabi_sys_proc_exec(program, data, data_len, list.fds, list.len);
	report(root, "proc_exec", e);
	return 1;
}
