/* cgi/decode.c: strict decoders for what browsers and scripts send: bad escapes, invalid UTF-8
 * and NULs are refused, never passed on to a handler. */
#include "cgi/decode.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		unsigned cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static int
pct(const char *s, size_t len, char *out, size_t outsz, bool plus_is_space)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (o + 1 >= outsz)
			return -1;
		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	if (!valid_utf8((const unsigned char *)out, o))
		return -1;
	return (int)o;
}

int
decode_pct(const char *s, size_t len, char *out, size_t outsz)
{
	return pct(s, len, out, outsz, true);
}

int
decode_pct_path(const char *s, size_t len, char *out, size_t outsz)
{
	return pct(s, len, out, outsz, false);
}

static int
add_field(json_t *obj, const char *key, size_t klen, const char *val, size_t vlen, bool decoded)
{
	char *k, *v;
	json_t *cur, *jv;
	bool force_array = false;
	int rc = -1;

	k = malloc(klen + 1);
	v = malloc(vlen + 1);
	if (k == NULL || v == NULL)
		goto out;
	if (decoded) {
		memcpy(k, key, klen);
		k[klen] = '\0';
		memcpy(v, val, vlen);
		v[vlen] = '\0';
		if (!valid_utf8((unsigned char *)k, klen) || !valid_utf8((unsigned char *)v, vlen))
			goto out;
	} else if (decode_pct(key, klen, k, klen + 1) < 0 || decode_pct(val, vlen, v, vlen + 1) < 0) {
		goto out;
	}
	klen = strlen(k);
	if (klen == 0) {
		rc = 0;
		goto out;
	}
	if (klen > 2 && strcmp(k + klen - 2, "[]") == 0) {
		k[klen - 2] = '\0';
		force_array = true;
	}
	jv = json_string(v);
	if (jv == NULL)
		goto out;
	cur = json_object_get(obj, k);
	if (cur == NULL) {
		if (force_array) {
			json_t *arr = json_array();

			json_array_append_new(arr, jv);
			json_object_set_new(obj, k, arr);
		} else {
			json_object_set_new(obj, k, jv);
		}
	} else if (json_is_array(cur)) {
		json_array_append_new(cur, jv);
	} else {
		json_t *arr = json_array();

		json_array_append(arr, cur);
		json_array_append_new(arr, jv);
		json_object_set_new(obj, k, arr);
	}
	rc = 0;
out:
	free(k);
	free(v);
	return rc;
}

int
decode_urlencoded(const char *s, size_t len, json_t *obj)
{
	size_t i = 0, fields = 0;

	while (i < len) {
		size_t start = i, eq = (size_t)-1;

		while (i < len && s[i] != '&' && s[i] != ';') {
			if (s[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		if (i > start) {
			if (++fields > DECODE_MAX_FIELDS)
				return -1;
			if (eq == (size_t)-1) {
				if (add_field(obj, s + start, i - start, "", 0, false) != 0)
					return -1;
			} else if (add_field(obj, s + start, eq - start, s + eq + 1, i - eq - 1, false) != 0) {
				return -1;
			}
		}
		i++;
	}
	return 0;
}

static const char *
memfind(const char *h, size_t hl, const char *n, size_t nl)
{
	if (nl == 0 || hl < nl)
		return NULL;
	for (size_t i = 0; i + nl <= hl; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

/* The value of attribute `attr` (name, filename, boundary) in a header line. */
static bool
header_attr(const char *line, size_t len, const char *attr, char *out, size_t outsz)
{
	size_t al = strlen(attr), i;

	for (i = 0; i + al + 1 < len; i++) {
		if ((i == 0 || line[i - 1] == ';' || line[i - 1] == ' ') &&
		    strncasecmp(line + i, attr, al) == 0 && line[i + al] == '=') {
			size_t j = i + al + 1, o = 0;
			bool q = j < len && line[j] == '"';

			if (q)
				j++;
			while (j < len && (q ? line[j] != '"' : (line[j] != ';' && line[j] != ' ' && line[j] != '\r'))) {
				if (o + 1 >= outsz) {
					out[0] = '\0';    /* too long: no value, never a cut one */
					return false;
				}
				out[o++] = line[j++];
			}
			out[o] = '\0';
			return true;
		}
	}
	return false;
}

int
decode_multipart(const char *body, size_t len, const char *content_type, json_t *obj,
                 const char **file_r, size_t *file_len_r)
{
	char boundary[128], delim[140], name[128];
	const char *p, *end = body + len, *next;
	size_t dl, fields = 0;

	*file_r = NULL;
	*file_len_r = 0;
	if (content_type == NULL ||
	    !header_attr(content_type, strlen(content_type), "boundary", boundary, sizeof(boundary)) ||
	    boundary[0] == '\0')
		return -1;
	dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
	if (dl >= sizeof(delim))
		return -1;
	p = memfind(body, len, delim, dl);
	if (p == NULL)
		return -1;
	for (;;) {
		const char *hdr_end, *data;
		size_t dlen;

		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;                      /* closing delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		hdr_end = memfind(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hdr_end == NULL)
			return -1;
		name[0] = '\0';
		for (const char *l = p; l < hdr_end;) {
			const char *le = memfind(l, (size_t)(hdr_end - l), "\r\n", 2);
			size_t ll = le ? (size_t)(le - l) : (size_t)(hdr_end - l);

			if (ll > 20 && strncasecmp(l, "content-disposition:", 20) == 0)
				(void)header_attr(l + 20, ll - 20, "name", name, sizeof(name));
			l += ll + 2;
		}
		data = hdr_end + 4;
		/* Each part ends with CRLF followed by the delimiter. */
		{
			char cd[144];
			size_t cl = (size_t)snprintf(cd, sizeof(cd), "\r\n%s", delim);

			next = memfind(data, (size_t)(end - data), cd, cl);
			if (next == NULL)
				return -1;
			dlen = (size_t)(next - data);
			p = next + 2;
		}
		if (++fields > DECODE_MAX_FIELDS)
			return -1;
		if (strcmp(name, "file") == 0) {
			*file_r = data;
			*file_len_r = dlen;
		} else if (name[0] != '\0' && add_field(obj, name, strlen(name), data, dlen, true) != 0) {
			return -1;
		}
	}
}

json_t *
decode_json_object(const char *body, size_t len)
{
	json_error_t err;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

	if (v != NULL && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}
