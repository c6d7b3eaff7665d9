/* core/clock.c: the one source of "now", with a test offset so locks and retention need no waiting. */
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

time_t
clock_now(void)
{
	const char *path = getenv("YUBIN_TEST_CLOCK_FILE");
	time_t now = time(NULL);
	char line[64];
	FILE *f;
	int64_t off;

	if (path == NULL || *path == '\0')
		return now;
	f = fopen(path, "r");
	if (f == NULL)
		return now;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (parse_i64(line, -INT64_C(100000000000), INT64_C(100000000000), &off))
			now += (time_t)off;
	}
	fclose(f);
	return now;
}

const char *
clock_rfc3339(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (outsz > 0)
			out[0] = '\0';
	}
	return out;
}

const char *
clock_now_str(char *out, size_t outsz)
{
	return clock_rfc3339(clock_now(), out, outsz);
}

int
clock_parse(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		int m = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5)
			return -1;
		p += 1 + m;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &sec, &m) != 1 || m != 2)
				return -1;
			p += 1 + m;
			if (*p == '.') {
				p++;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;

			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5)
				return -1;
			off = sign * (oh * 3600L + om * 60L);
			p += 1 + m;
		}
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - off;
	return 0;
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
