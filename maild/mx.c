/* maild/mx.c: MX lookups with libresolv (res_nquery, ns_parserr), pointed at dns_server when set. */
/*
 * Without dns_server, libresolv reads /etc/resolv.conf and the MX hosts' addresses come from
 * getaddrinfo (hosts file, A and AAAA). With dns_server, every lookup — MX and the hosts' A
 * records — goes to that one server, so a test can run its own DNS on loopback. mx_port (25)
 * is the port the MX hosts are contacted on.
 */
#include "maild/mx.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/sock.h"

static int
by_pref(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;

	return x->pref - y->pref;
}

static bool
use_server(struct __res_state *rs, const char *setting)
{
	char host[64], port[16] = "53";
	struct in_addr a;

	if (strchr(setting, ':') != NULL) {
		if (!sock_split(setting, host, sizeof(host), port, sizeof(port)))
			return false;
	} else if (!bstrcpy(host, sizeof(host), setting)) {
		return false;
	}
	if (inet_pton(AF_INET, host, &a) != 1)
		return false;
	rs->nscount = 1;
	rs->nsaddr_list[0].sin_family = AF_INET;
	rs->nsaddr_list[0].sin_addr = a;
	rs->nsaddr_list[0].sin_port = htons((uint16_t)atoi(port));
	return true;
}

/* One query of type `type` for name into ans. Returns the answer's length, or -1 with
 * *herr_r set to libresolv's h_errno (HOST_NOT_FOUND, NO_DATA, TRY_AGAIN, ...). */
static int
query(const struct config *cfg, const char *name, int type, unsigned char *ans, int anssz, int *herr_r)
{
	struct __res_state rs;
	int len;

	*herr_r = NETDB_INTERNAL;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return -1;
	if (cfg->dns_server[0] != '\0' && !use_server(&rs, cfg->dns_server)) {
		log_warnx("mx: bad dns_server \"%s\"", cfg->dns_server);
		res_nclose(&rs);
		return -1;
	}
	rs.retrans = 3;
	rs.retry = 2;
	len = res_nquery(&rs, name, ns_c_in, type, ans, anssz);
	if (len < 0)
		*herr_r = rs.res_h_errno;
	res_nclose(&rs);
	return len;
}

int
mx_lookup(const struct config *cfg, const char *domain, struct mx_host *out, int max)
{
	unsigned char ans[8192];
	ns_msg msg;
	int len, i, n = 0, count, herr;

	len = query(cfg, domain, ns_t_mx, ans, sizeof(ans), &herr);
	if (len < 0) {
		if (herr == HOST_NOT_FOUND)
			return 0;
		if (herr == NO_DATA)
			goto implicit;
		return -1;
	}
	if (ns_initparse(ans, len, &msg) != 0)
		return -1;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && n < max; i++) {
		ns_rr rr;

		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_mx ||
		    ns_rr_rdlen(rr) < 3)
			continue;
		out[n].pref = ns_get16(ns_rr_rdata(rr));
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, out[n].name,
		              sizeof(out[n].name)) < 0)
			continue;
		n++;
	}
	if (n == 0)
		goto implicit;
	/* RFC 7505: a single "." MX says the domain takes no mail. */
	if (n == 1 && out[0].name[0] == '\0')
		return 0;
	qsort(out, (size_t)n, sizeof(*out), by_pref);
	return n;
implicit:
	/* RFC 5321 §5.1: no MX, the domain itself is the host. */
	if (max < 1 || !bstrcpy(out[0].name, sizeof(out[0].name), domain))
		return -1;
	out[0].pref = 0;
	return 1;
}

int
mx_addrs(const struct config *cfg, const char *host, char out[][INET_ADDRSTRLEN], int max)
{
	unsigned char ans[8192];
	ns_msg msg;
	int len, i, n = 0, count, herr;

	len = query(cfg, host, ns_t_a, ans, sizeof(ans), &herr);
	if (len < 0)
		return herr == HOST_NOT_FOUND || herr == NO_DATA ? 0 : -1;
	if (ns_initparse(ans, len, &msg) != 0)
		return -1;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && n < max; i++) {
		ns_rr rr;

		/* CNAMEs before the A records are skipped: the server follows them for us. */
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_a ||
		    ns_rr_rdlen(rr) != 4)
			continue;
		if (inet_ntop(AF_INET, ns_rr_rdata(rr), out[n], INET_ADDRSTRLEN) != NULL)
			n++;
	}
	return n;
}

/* Every address of one MX host in turn; the first answer other than a temporary failure ends it. */
static enum smtpc_result
send_host(const struct config *cfg, const char *host, const char *port, const char *from,
          const char *rcpt, const char *msgpath, char *err, size_t errsz)
{
	char addrs[MX_MAX][INET_ADDRSTRLEN];
	enum smtpc_result res = SMTPC_TEMP;
	int n, i;

	if (cfg->dns_server[0] == '\0')
		return smtpc_send(cfg, host, port, from, rcpt, msgpath, err, errsz);
	n = mx_addrs(cfg, host, addrs, MX_MAX);
	if (n <= 0) {
		snprintf(err, errsz, "4.4.3 no address for %s%s", host, n < 0 ? " (DNS lookup failed)" : "");
		return SMTPC_TEMP;
	}
	for (i = 0; i < n && res == SMTPC_TEMP; i++)
		res = smtpc_send(cfg, addrs[i], port, from, rcpt, msgpath, err, errsz);
	return res;
}

enum smtpc_result
mx_send(const struct config *cfg, const char *domain, const char *from, const char *rcpt,
        const char *msgpath, char *err, size_t errsz)
{
	struct mx_host hosts[MX_MAX];
	int n = mx_lookup(cfg, domain, hosts, MX_MAX), i;
	enum smtpc_result res = SMTPC_TEMP;
	char port[16];

	if (n < 0) {
		snprintf(err, errsz, "4.4.3 DNS lookup for %s failed", domain);
		return SMTPC_TEMP;
	}
	if (n == 0) {
		snprintf(err, errsz, "5.1.2 domain %s does not exist or takes no mail", domain);
		return SMTPC_PERM;
	}
	snprintf(port, sizeof(port), "%d", (int)cfg->mx_port);
	/* RFC 5321 §5.1: by preference, on to the next host while the answer is temporary. */
	for (i = 0; i < n; i++) {
		res = send_host(cfg, hosts[i].name, port, from, rcpt, msgpath, err, errsz);
		if (res != SMTPC_TEMP)
			break;
	}
	return res;
}
