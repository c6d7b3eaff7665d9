/* core/arena.c: alloc-only arenas made of chained blocks; wiped on release because they hold secrets. */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	const char *name;
	struct block *head;
};

static struct block *
block_new(size_t cap)
{
	struct block *b;

	if (cap > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + cap);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->used = 0;
	b->cap = cap;
	return b;
}

struct arena *
arena_new(const char *name)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->name = name;
	a->head = block_new(ARENA_BLOCK);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct block *b = a->head;
	size_t align = sizeof(max_align_t), off;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - align)
		return NULL;
	off = (b->used + align - 1) & ~(align - 1);
	if (off + n > b->cap) {
		struct block *nb = block_new(n > ARENA_BLOCK / 2 ? n : ARENA_BLOCK);

		if (nb == NULL)
			return NULL;
		if (n > ARENA_BLOCK / 2 && b != NULL) {
			/* A big allocation gets its own block behind the head, so the head
			 * keeps serving small ones. */
			nb->next = b->next;
			b->next = nb;
			nb->used = n;
			p = nb->data;
			memset(p, 0, n);
			return p;
		}
		nb->next = b;
		a->head = b = nb;
		off = 0;
	}
	p = (char *)b->data + off;
	b->used = off + n;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	n = vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}

void
arena_free(struct arena **ap)
{
	struct arena *a;
	struct block *b, *next;

	if (ap == NULL || *ap == NULL)
		return;
	a = *ap;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		explicit_bzero(b->data, b->used);
		free(b);
	}
	free(a);
	*ap = NULL;
}
