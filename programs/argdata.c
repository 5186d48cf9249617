/* The argdata reader and fd rewriter declared in argdata.h. */
#include "argdata.h"

/* Reads one subfield length at it->pos: base-128 digits, most significant
 * first, the last digit marked by bit 7. Returns 1 and the length, or 0 on
 * a malformed or truncated length. */
static int read_length(const uint8_t **pos, size_t *left, size_t *out)
{
	size_t n = 0;
	int first = 1;
	for (;;) {
		if (*left == 0)
			return 0;
		uint8_t b = **pos;
		++*pos;
		--*left;
		if (first && b == 0x00)
			return 0; /* a leading zero digit */
		first = 0;
		if (n > ((size_t)-1 >> 7))
			return 0; /* would overflow */
		n = (n << 7) | (b & 0x7f);
		if (b & 0x80)
			break;
	}
	*out = n;
	return 1;
}

int ad_iter_next(struct ad_iter *it, struct ad_value *out)
{
	size_t n;
	if (it->error || it->left == 0)
		return 0;
	if (!read_length(&it->pos, &it->left, &n) || n > it->left) {
		it->error = 1;
		return 0;
	}
	out->buf = it->pos;
	out->len = n;
	it->pos += n;
	it->left -= n;
	return 1;
}

int ad_iter_next_pair(struct ad_iter *it, struct ad_value *key, struct ad_value *value)
{
	if (!ad_iter_next(it, key))
		return 0;
	if (!ad_iter_next(it, value)) {
		it->error = 1; /* an odd subfield count */
		return 0;
	}
	return 1;
}

static cloudabi_errno_t container_iter(struct ad_value v, uint8_t tag, struct ad_iter *it)
{
	if (v.len == 0 || v.buf[0] != tag)
		return CLOUDABI_EINVAL;
	it->pos = v.buf + 1;
	it->left = v.len - 1;
	it->error = 0;
	return 0;
}

cloudabi_errno_t ad_seq_iter(struct ad_value v, struct ad_iter *it)
{
	return container_iter(v, AD_SEQ, it);
}

cloudabi_errno_t ad_map_iter(struct ad_value v, struct ad_iter *it)
{
	return container_iter(v, AD_MAP, it);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

cloudabi_errno_t ad_get_fd(struct ad_value v, cloudabi_fd_t *fd)
{
	if (v.len != 5 || v.buf[0] != AD_FD)
		return CLOUDABI_EINVAL;
	uint32_t raw = be32(v.buf + 1);
	if (raw > 0x7fffffffU)
		return CLOUDABI_EBADF;
	*fd = raw;
	return 0;
}

cloudabi_errno_t ad_get_int(struct ad_value v, int64_t *out)
{
	if (v.len == 0 || v.buf[0] != AD_INT)
		return CLOUDABI_EINVAL;
	size_t n = v.len - 1;
	if (n > 8)
		return CLOUDABI_ERANGE;
	uint64_t x = 0;
	if (n > 0 && (v.buf[1] & 0x80))
		x = ~(uint64_t)0; /* sign-extend a negative value */
	for (size_t i = 0; i < n; ++i)
		x = (x << 8) | v.buf[1 + i];
	*out = (int64_t)x;
	return 0;
}

cloudabi_errno_t ad_get_str(struct ad_value v, const char **s, size_t *len)
{
	if (v.len < 2 || v.buf[0] != AD_STR || v.buf[v.len - 1] != 0)
		return CLOUDABI_EINVAL;
	*s = (const char *)v.buf + 1;
	*len = v.len - 2;
	return 0;
}

int ad_map_find(struct ad_value map, const char *name, struct ad_value *out)
{
	struct ad_iter it;
	struct ad_value k, v;
	size_t name_len = strlen(name);
	if (ad_map_iter(map, &it) != 0)
		return 0;
	while (ad_iter_next_pair(&it, &k, &v)) {
		const char *s;
		size_t n;
		if (ad_get_str(k, &s, &n) == 0 && n == name_len && memcmp(s, name, n) == 0) {
			*out = v;
			return 1;
		}
	}
	return 0;
}

int ad_fdlist_add(struct ad_fdlist *list, cloudabi_fd_t fd)
{
	for (size_t i = 0; i < list->len; ++i)
		if (list->fds[i] == fd)
			return (int)i;
	if (list->len == sizeof(list->fds) / sizeof(list->fds[0]))
		return -1;
	list->fds[list->len] = fd;
	return (int)list->len++;
}

/*
 * Walks the value tree without recursion: an explicit stack of open
 * containers (their remaining byte ranges). Containers nested deeper than
 * the stack are copied verbatim (left untouched), which keeps the length.
 */
cloudabi_errno_t ad_rewrite_fds(uint8_t *buf, size_t len, struct ad_fdlist *list)
{
	struct {
		uint8_t *pos;
		size_t left;
	} stack[32];
	size_t depth = 0;
	uint8_t *val = buf;
	size_t val_len = len;

	for (;;) {
		/* Visit the value val[..val_len]. */
		if (val_len == 5 && val[0] == AD_FD) {
			uint32_t raw = be32(val + 1);
			uint32_t idx = 0xffffffffU;
			if (raw <= 0x7fffffffU) {
				int i = ad_fdlist_add(list, raw);
				if (i < 0)
					return CLOUDABI_E2BIG;
				idx = (uint32_t)i;
			}
			val[1] = (uint8_t)(idx >> 24);
			val[2] = (uint8_t)(idx >> 16);
			val[3] = (uint8_t)(idx >> 8);
			val[4] = (uint8_t)idx;
		} else if (val_len > 0 && (val[0] == AD_MAP || val[0] == AD_SEQ) &&
		           depth < sizeof(stack) / sizeof(stack[0])) {
			stack[depth].pos = val + 1;
			stack[depth].left = val_len - 1;
			++depth;
		}
		/* Find the next subfield of the innermost open container. */
		for (;;) {
			if (depth == 0)
				return 0;
			struct ad_iter it = {stack[depth - 1].pos, stack[depth - 1].left, 0};
			struct ad_value next;
			if (ad_iter_next(&it, &next)) {
				stack[depth - 1].pos = (uint8_t *)it.pos;
				stack[depth - 1].left = it.left;
				val = (uint8_t *)next.buf;
				val_len = next.len;
				break;
			}
			--depth; /* ended, or malformed: the rest stays verbatim */
		}
	}
}
