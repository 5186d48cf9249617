/*
 * A minimal argdata reader and fd-rewriting serialiser (format:
 * shared/spec/argdata.md). Values are views into the caller's buffer; no
 * allocation.
 */
#ifndef CAPEXEC_ARGDATA_H
#define CAPEXEC_ARGDATA_H

#include "cloudabi.h"

#define AD_BINARY 0x01
#define AD_BOOL 0x02
#define AD_FD 0x03
#define AD_FLOAT 0x04
#define AD_INT 0x05
#define AD_MAP 0x06
#define AD_SEQ 0x07
#define AD_STR 0x08
#define AD_TIMESTAMP 0x09

/* One encoded value; len 0 is null. */
struct ad_value {
	const uint8_t *buf;
	size_t len;
};

/* Iterator over the subfields of a seq or map. `error` is set once a
 * malformed subfield is met; iteration then stops. */
struct ad_iter {
	const uint8_t *pos;
	size_t left;
	int error;
};

/* Typed reads: 0 on success or a CloudABI errno (EINVAL for a wrong tag). */
cloudabi_errno_t ad_get_fd(struct ad_value v, cloudabi_fd_t *fd);
cloudabi_errno_t ad_get_int(struct ad_value v, int64_t *out);
/* A str as a NUL-terminated C string (the NUL is part of the payload). */
cloudabi_errno_t ad_get_str(struct ad_value v, const char **s, size_t *len);

cloudabi_errno_t ad_seq_iter(struct ad_value v, struct ad_iter *it);
cloudabi_errno_t ad_map_iter(struct ad_value v, struct ad_iter *it);
/* Next element: 1 when one was produced, 0 at the end or on error. */
int ad_iter_next(struct ad_iter *it, struct ad_value *out);
/* Next map entry (key then value): 1 when a full pair was produced. */
int ad_iter_next_pair(struct ad_iter *it, struct ad_value *key, struct ad_value *value);

/* Looks up the first entry of a map whose key is the str `name`. */
int ad_map_find(struct ad_value map, const char *name, struct ad_value *out);

/*
 * Descriptor list built while rewriting: fds[i] is the caller's descriptor
 * that becomes descriptor i of the new program.
 */
struct ad_fdlist {
	cloudabi_fd_t fds[64];
	size_t len;
};

/* Appends fd unless present; returns its index, or -1 when full. */
int ad_fdlist_add(struct ad_fdlist *list, cloudabi_fd_t fd);

/*
 * Rewrites in place every well-formed fd node of buf[..len] (reached
 * through well-formed subfields) to its index in `list`, appending new
 * descriptors in first-appearance order. A stored value above INT32_MAX
 * becomes the invalid descriptor FFFFFFFF and is not listed. The length
 * never changes. Returns 0, or E2BIG when the list overflows.
 */
cloudabi_errno_t ad_rewrite_fds(uint8_t *buf, size_t len, struct ad_fdlist *list);

#endif
