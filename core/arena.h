/* core/arena.h: alloc-only memory arenas, one per request, session or transaction. */
#ifndef YUBIN_CORE_ARENA_H
#define YUBIN_CORE_ARENA_H

#include <stddef.h>

struct arena;

/* NULL when memory ran out. `name` is kept for diagnostics. */
struct arena *arena_new(const char *name);
/* Zeroed memory that lives until arena_free; NULL when memory ran out. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees everything (wiping it, since requests carry passwords) and NULLs *a. NULL is fine. */
void arena_free(struct arena **a);

#endif
