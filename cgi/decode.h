/* cgi/decode.h: form, query-string, multipart and JSON bodies decoded into one json_t object. */
#ifndef YUBIN_CGI_DECODE_H
#define YUBIN_CGI_DECODE_H

#include <jansson.h>
#include <stddef.h>

/* application/x-www-form-urlencoded (and query strings) into obj: a repeated key, or one
 * ending in "[]", becomes an array of strings. 0, or -1 when malformed (bad %-escape,
 * invalid UTF-8, NUL, too many fields). */
int decode_urlencoded(const char *s, size_t len, json_t *obj);
/* Multipart form data with the boundary from content_type. File parts are stored as
 * strings too (the CSV upload's field `file`); the raw bytes of the part named
 * `file` are also returned in file_r and file_len_r (pointers into body). 0 or -1. */
int decode_multipart(const char *body, size_t len, const char *content_type, json_t *obj,
                     const char **file_r, size_t *file_len_r);
/* A JSON body that must be an object. NULL when malformed. */
json_t *decode_json_object(const char *body, size_t len);
/* Percent-decode form/query text ('+' is a space) into out (NUL-terminated); -1 when
 * malformed or not UTF-8. decode_pct_path keeps '+' (path segments). */
int decode_pct(const char *s, size_t len, char *out, size_t outsz);
int decode_pct_path(const char *s, size_t len, char *out, size_t outsz);

#define DECODE_MAX_FIELDS 2000

#endif
