/*
 * Minimal CloudABI (cloudabi32, i386) definitions for the capexec test
 * programs: types, constants and the system call stubs of syscalls.S.
 * Numbers follow shared/spec/abi-i386.md (final ABI).
 */
#ifndef CAPEXEC_CLOUDABI_H
#define CAPEXEC_CLOUDABI_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef signed char int8_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned int size_t;
typedef uint32_t uintptr_t;

#define NULL ((void *)0)

typedef uint32_t cloudabi_fd_t;
typedef uint16_t cloudabi_errno_t;
typedef uint64_t cloudabi_rights_t;

/* Error numbers used by the programs. */
#define CLOUDABI_E2BIG 1
#define CLOUDABI_EBADF 8
#define CLOUDABI_EFAULT 21
#define CLOUDABI_EINVAL 28
#define CLOUDABI_ERANGE 68
#define CLOUDABI_ENOSYS 52
#define CLOUDABI_ENOTCAPABLE 76

/* Auxiliary vector entry types. */
#define CLOUDABI_AT_NULL 0
#define CLOUDABI_AT_ARGDATA 256
#define CLOUDABI_AT_ARGDATALEN 257

/* fd_stat_put: which parts of the fdstat to apply. */
#define CLOUDABI_FDSTAT_FLAGS 0x1
#define CLOUDABI_FDSTAT_RIGHTS 0x2

/* Rights bits used by the programs. */
#define CLOUDABI_RIGHT_FD_READ 0x2ULL
#define CLOUDABI_RIGHT_FD_WRITE 0x40ULL

typedef struct {
	uint32_t a_type;
	uint32_t a_val;
} cloudabi_auxv_t;

/* The i386 layout: 24 bytes; on i386 a uint64_t is only 4-aligned, hence
 * the explicit padding. */
typedef struct {
	uint8_t fs_filetype;
	uint8_t pad0;
	uint16_t fs_flags;
	uint32_t pad1;
	uint64_t fs_rights_base;
	uint64_t fs_rights_inheriting;
} cloudabi_fdstat_t;

_Static_assert(sizeof(cloudabi_fdstat_t) == 24, "fdstat size");
_Static_assert(__builtin_offsetof(cloudabi_fdstat_t, fs_flags) == 2, "fs_flags");
_Static_assert(__builtin_offsetof(cloudabi_fdstat_t, fs_rights_base) == 8, "base");
_Static_assert(__builtin_offsetof(cloudabi_fdstat_t, fs_rights_inheriting) == 16, "inh");

/* iovec32 / ciovec32: { u32 buf, u32 buf_len }. */
typedef struct {
	void *buf;
	size_t buf_len;
} cloudabi_iovec_t;

typedef struct {
	const void *buf;
	size_t buf_len;
} cloudabi_ciovec_t;

_Static_assert(sizeof(cloudabi_ciovec_t) == 8, "ciovec size");

/* System call stubs (syscalls.S). Each returns 0 or a CloudABI errno. */
cloudabi_errno_t cloudabi_sys_fd_close(cloudabi_fd_t fd);
cloudabi_errno_t cloudabi_sys_fd_dup(cloudabi_fd_t from, cloudabi_fd_t *fd);
cloudabi_errno_t cloudabi_sys_fd_read(cloudabi_fd_t fd, const cloudabi_iovec_t *iovs,
                                      size_t iovs_len, size_t *nread);
cloudabi_errno_t cloudabi_sys_fd_replace(cloudabi_fd_t from, cloudabi_fd_t to);
cloudabi_errno_t cloudabi_sys_fd_stat_get(cloudabi_fd_t fd, cloudabi_fdstat_t *buf);
cloudabi_errno_t cloudabi_sys_fd_stat_put(cloudabi_fd_t fd, const cloudabi_fdstat_t *buf,
                                          uint16_t flags);
cloudabi_errno_t cloudabi_sys_fd_write(cloudabi_fd_t fd, const cloudabi_ciovec_t *iovs,
                                       size_t iovs_len, size_t *nwritten);
cloudabi_errno_t cloudabi_sys_proc_exec(cloudabi_fd_t fd, const void *data, size_t data_len,
                                        const cloudabi_fd_t *fds, size_t fds_len);
_Noreturn void cloudabi_sys_proc_exit(uint32_t rval);
cloudabi_errno_t cloudabi_sys_random_get(void *buf, size_t buf_len);

/* crt0: the TCB pointer found at [esp] on entry. */
extern void *__crt0_tcb;

/* The program's entry, called by crt0 with the argdata from the auxv. */
int main(const void *argdata, size_t argdata_len);

/* rt.c: freestanding helpers. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* A small output buffer flushed with fd_write. */
struct outbuf {
	cloudabi_fd_t fd;
	size_t len;
	cloudabi_errno_t error;
	char data[512];
};

void out_init(struct outbuf *o, cloudabi_fd_t fd);
void out_str(struct outbuf *o, const char *s);
void out_bytes(struct outbuf *o, const void *p, size_t n);
void out_dec(struct outbuf *o, uint64_t v);
void out_hex(struct outbuf *o, uint64_t v);
/* Writes everything buffered; returns 0 or the first errno seen. */
cloudabi_errno_t out_flush(struct outbuf *o);
/* Writes all of buf[..len] to fd, looping on short writes. */
cloudabi_errno_t write_all(cloudabi_fd_t fd, const void *buf, size_t len);

#endif
