/* maild/mailcopy_utf7.c: modified UTF-7 mailbox names (RFC 3501 §5.1.3) to UTF-8, and INTERNALDATE parsing. */
#include "maild/mailcopy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')          /* modified base64: ',' instead of '/' */
		return 63;
	return -1;
}

static bool
put_utf8(uint32_t cp, char *out, size_t outsz, size_t *o)
{
	unsigned char b[4];
	size_t n, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*o + n >= outsz)
		return false;
	for (i = 0; i < n; i++)
		out[(*o)++] = (char)b[i];
	return true;
}

static bool
decode(const char *in, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	while (in[i] != '\0') {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c > 0x7e)
			return false;   /* raw 8-bit is not modified UTF-7 */
		if (c != '&') {
			if (o + 1 >= outsz)
				return false;
			out[o++] = (char)c;
			i++;
			continue;
		}
		i++;
		if (in[i] == '-') {     /* "&-" is "&" */
			if (o + 1 >= outsz)
				return false;
			out[o++] = '&';
			i++;
			continue;
		}
		{
			uint32_t bits = 0, high = 0;
			int nbits = 0, v, units = 0;

			for (; in[i] != '-'; i++) {
				if ((v = b64val(in[i])) < 0)
					return false;
				bits = (bits << 6) | (uint32_t)v;
				nbits += 6;
				if (nbits >= 16) {
					uint32_t u = (bits >> (nbits - 16)) & 0xffff;

					nbits -= 16;
					units++;
					if (u >= 0xd800 && u <= 0xdbff) {
						if (high != 0)
							return false;
						high = u;
					} else if (u >= 0xdc00 && u <= 0xdfff) {
						if (high == 0)
							return false;
						if (!put_utf8(0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00), out, outsz, &o))
							return false;
						high = 0;
					} else {
						/* RFC 3501: printable ASCII is never base64-encoded. */
						if (high != 0 || (u >= 0x20 && u <= 0x7e) || !put_utf8(u, out, outsz, &o))
							return false;
					}
				}
			}
			/* Leftover bits must be zero padding, less than one sextet's worth. */
			if (units == 0 || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
				return false;
			i++;   /* the '-' */
		}
	}
	out[o] = '\0';
	return true;
}

bool
mutf7_decode(const char *in, char *out, size_t outsz)
{
	if (outsz == 0)
		return false;
	if (decode(in, out, outsz))
		return true;
	(void)bstrcpy(out, outsz, in);
	return false;
}

bool
imap_parse_date(const char *s, time_t *t)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char mon[4], sign;
	int d, y, h, mi, sec, zh, zm, m, n = 0;
	struct tm tm;
	time_t v;

	while (*s == ' ')
		s++;
	if (sscanf(s, "%2d-%3[A-Za-z]-%4d %2d:%2d:%2d %c%2d%2d%n", &d, mon, &y, &h, &mi, &sec, &sign, &zh, &zm,
	    &n) != 9 || s[n] != '\0' || (sign != '+' && sign != '-'))
		return false;
	for (m = 0; m < 12 && strcasecmp(mon, months[m]) != 0; m++)
		;
	if (m == 12 || d < 1 || d > 31 || y < 1970 || h > 23 || mi > 59 || sec > 60 || zh > 23 || zm > 59)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return false;
	v -= (sign == '+' ? 1 : -1) * (time_t)(zh * 3600 + zm * 60);
	*t = v;
	return true;
}
