/* core/buf.c: growable NUL-terminated byte buffer. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

static bool
grow(struct buf *b, size_t need)
{
	size_t ncap;
	char *p;

	if (b->oom)
		return false;
	if (need + 1 <= b->cap)
		return true;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need + 1) {
		if (ncap > (size_t)-1 / 2) {
			b->oom = true;
			return false;
		}
		ncap *= 2;
	}
	p = realloc(b->data, ncap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = ncap;
	return true;
}

bool
buf_add(struct buf *b, const void *p, size_t n)
{
	if (!grow(b, b->len + n))
		return false;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

bool
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

bool
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !grow(b, b->len + (size_t)n))
		return false;
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	if (n < 0)
		return false;
	b->len += (size_t)n;
	return true;
}

bool
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ok;
}

bool
buf_add_html(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#x27;"; break;
		default: rep = NULL; break;
		}
		if (rep == NULL)
			continue;
		if (!buf_add(b, s + start, i - start) || !buf_adds(b, rep))
			return false;
		start = i + 1;
	}
	return buf_add(b, s + start, n - start);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *
buf_steal(struct buf *b, size_t *len_r)
{
	char *p = b->data;

	if (len_r)
		*len_r = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	buf_init(b);
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}
