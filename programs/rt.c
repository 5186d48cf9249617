/*
 * Freestanding runtime for the capexec test programs: the C half of crt0,
 * the memory functions the compiler may call, and buffered output.
 */
#include "cloudabi.h"

void *__crt0_tcb;

_Noreturn void __crt0_main(const cloudabi_auxv_t *auxv, void *tcb);

_Noreturn void __crt0_main(const cloudabi_auxv_t *auxv, void *tcb)
{
	const void *argdata = NULL;
	size_t argdata_len = 0;

	__crt0_tcb = tcb;
	for (; auxv->a_type != CLOUDABI_AT_NULL; ++auxv) {
		if (auxv->a_type == CLOUDABI_AT_ARGDATA)
			argdata = (const void *)(uintptr_t)auxv->a_val;
		else if (auxv->a_type == CLOUDABI_AT_ARGDATALEN)
			argdata_len = auxv->a_val;
	}
	cloudabi_sys_proc_exit((uint32_t)main(argdata, argdata_len));
}

/* String instructions keep gcc from turning these loops back into calls to
 * themselves. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; ++i)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		++n;
	return n;
}

cloudabi_errno_t write_all(cloudabi_fd_t fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		cloudabi_ciovec_t iov = {p, len};
		size_t written;
		cloudabi_errno_t e = cloudabi_sys_fd_write(fd, &iov, 1, &written);
		if (e != 0)
			return e;
		if (written == 0 || written > len)
			return CLOUDABI_EINVAL;
		p += written;
		len -= written;
	}
	return 0;
}

void out_init(struct outbuf *o, cloudabi_fd_t fd)
{
	o->fd = fd;
	o->len = 0;
	o->error = 0;
}

cloudabi_errno_t out_flush(struct outbuf *o)
{
	if (o->len > 0 && o->error == 0)
		o->error = write_all(o->fd, o->data, o->len);
	o->len = 0;
	return o->error;
}

void out_bytes(struct outbuf *o, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		if (o->len == sizeof(o->data))
			out_flush(o);
		size_t room = sizeof(o->data) - o->len;
		size_t k = n < room ? n : room;
		memcpy(o->data + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void out_str(struct outbuf *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

void out_dec(struct outbuf *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);
	do {
		/* 64-bit division would need libgcc; divide in 32-bit halves. */
		uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
		uint32_t qhi = hi / 10, rhi = hi % 10;
		uint64_t mid = ((uint64_t)rhi << 32) | lo;
		/* mid < 10 * 2^32, so split again to stay in 32-bit arithmetic. */
		uint32_t mhi = (uint32_t)(mid >> 16);
		uint32_t qm = mhi / 10, rm = mhi % 10;
		uint32_t low = (rm << 16) | (lo & 0xffff);
		uint32_t ql = low / 10, rl = low % 10;
		v = ((uint64_t)qhi << 32) | ((uint64_t)qm << 16) | ql;
		tmp[--i] = (char)('0' + rl);
	} while (v != 0);
	out_bytes(o, tmp + i, sizeof(tmp) - i);
}

void out_hex(struct outbuf *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[18];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v != 0);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	out_bytes(o, tmp + i, sizeof(tmp) - i);
}
