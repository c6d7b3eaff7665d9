/* maild/smtp_cmd.c: parsers for SMTP command lines (verb, paths, ESMTP parameters) — pure functions, fuzzed. */
#include "maild/smtp.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

bool
smtp_split(const char *line, char verb[16], const char **arg_r)
{
	size_t i = 0;

	while (line[i] != '\0' && line[i] != ' ') {
		if (i >= 15 || !isalpha((unsigned char)line[i]))
			return false;
		verb[i] = (char)toupper((unsigned char)line[i]);
		i++;
	}
	if (i == 0)
		return false;
	verb[i] = '\0';
	*arg_r = line[i] == ' ' ? line + i + 1 : line + i;
	return true;
}

/* The address inside <...> at s into p->addr: source routes dropped, quoted local parts
 * kept with their quotes. Returns the position after '>', or NULL. */
static const char *
parse_angle(const char *s, struct smtp_path *p)
{
	const char *q = s + 1;
	size_t n = 0;
	bool quoted = false;

	if (*s != '<')
		return NULL;
	if (*q == '@') {
		/* RFC 5321 §4.1.2 A-d-l ("@a,@b:"): accepted and ignored (Appendix C). */
		const char *colon = strchr(q, ':');

		if (colon == NULL)
			return NULL;
		q = colon + 1;
	}
	for (; *q != '\0'; q++) {
		char c = *q;

		if (quoted) {
			if (c == '\\' && q[1] != '\0') {
				if (n + 2 > SMTP_PATH_MAX)
					return NULL;
				p->addr[n++] = c;
				c = *++q;
			} else if (c == '"') {
				quoted = false;
			}
		} else if (c == '"') {
			quoted = true;
		} else if (c == '>') {
			break;
		} else if (c == '<' || c == ' ' || (unsigned char)c < 0x20 || c == 0x7f) {
			return NULL;
		}
		if (n + 1 > SMTP_PATH_MAX)
			return NULL;
		p->addr[n++] = c;
	}
	if (*q != '>' || quoted)
		return NULL;
	p->addr[n] = '\0';
	if (n > 0) {
		char local[SMTP_PATH_MAX + 1], domain[SMTP_PATH_MAX + 1];

		if (!smtp_addr_split(p->addr, local, sizeof(local), domain, sizeof(domain)))
			return NULL;
	}
	return q + 1;
}

int
smtp_parse_path(const char *arg, const char *kw, struct smtp_path *p)
{
	size_t kl = strlen(kw);
	const char *s;

	memset(p, 0, sizeof(*p));
	p->size = -1;
	if (strncasecmp(arg, kw, kl) != 0 || arg[kl] != ':')
		return -1;
	s = arg + kl + 1;
	while (*s == ' ')
		s++;   /* "MAIL FROM: <a@b>" is common enough to accept */
	s = parse_angle(s, p);
	if (s == NULL)
		return -1;
	while (*s != '\0') {
		char param[64], *eq;
		size_t n = 0;

		if (*s != ' ')
			return -1;
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		while (*s != '\0' && *s != ' ') {
			if (n + 1 >= sizeof(param))
				return -2;
			param[n++] = *s++;
		}
		param[n] = '\0';
		eq = strchr(param, '=');
		if (eq != NULL)
			*eq++ = '\0';
		if (strcasecmp(param, "SIZE") == 0 && strcmp(kw, "FROM") == 0) {
			if (eq == NULL || !parse_i64(eq, 0, INT64_MAX, &p->size))
				return -2;
		} else if (strcasecmp(param, "BODY") == 0 && strcmp(kw, "FROM") == 0) {
			if (eq == NULL)
				return -2;
			if (strcasecmp(eq, "8BITMIME") == 0)
				p->body_8bit = true;
			else if (strcasecmp(eq, "7BIT") != 0)
				return -2;
		} else {
			return -2;
		}
	}
	return 0;
}

bool
smtp_addr_split(const char *addr, char *local, size_t localsz, char *domain, size_t domainsz)
{
	const char *at = strrchr(addr, '@');
	size_t ll, i, o = 0;

	if (at == NULL || at == addr || at[1] == '\0')
		return false;
	ll = (size_t)(at - addr);
	if (ll + 1 > localsz || strlen(at + 1) + 1 > domainsz)
		return false;
	for (i = 0; i < ll; i++) {
		if (addr[i] == '"')
			continue;
		if (addr[i] == '\\' && i + 1 < ll) {
			local[o++] = addr[++i];
			continue;
		}
		local[o++] = addr[i];
	}
	local[o] = '\0';
	if (o == 0)
		return false;
	for (i = 0; at[1 + i] != '\0'; i++) {
		unsigned char c = (unsigned char)at[1 + i];

		if (!(isalnum(c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':' || c >= 0x80))
			return false;
		domain[i] = (char)tolower(c);
	}
	domain[i] = '\0';
	return true;
}
