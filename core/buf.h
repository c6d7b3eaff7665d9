/* core/buf.h: a growable byte buffer, always NUL-terminated, for output that is built piecewise. */
#ifndef YUBIN_CORE_BUF_H
#define YUBIN_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;   /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	bool oom;     /* an allocation failed: contents are incomplete */
};

void buf_init(struct buf *b);
/* Each append returns false (and sets oom) when memory ran out. */
bool buf_add(struct buf *b, const void *p, size_t n);
bool buf_adds(struct buf *b, const char *s);
bool buf_addc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* HTML-escape & < > " ' into the buffer. */
bool buf_add_html(struct buf *b, const char *s, size_t n);
void buf_reset(struct buf *b);
/* Give up ownership of the data (caller frees with free()); the buffer is empty again. */
char *buf_steal(struct buf *b, size_t *len_r);
void buf_free(struct buf *b);

#endif
