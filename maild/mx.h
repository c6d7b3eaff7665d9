/* maild/mx.h: delivery by MX records (RFC 5321 §5.1) through libresolv, dns_server for tests. */
#ifndef YUBIN_MAILD_MX_H
#define YUBIN_MAILD_MX_H

#include <netinet/in.h>
#include <stddef.h>

#include "core/config.h"
#include "maild/smtpc.h"

#define MX_MAX 16

struct mx_host {
	char name[256];
	int pref;
};

/* The MX hosts of domain by preference; with none, the domain itself (the implicit MX).
 * Returns how many, 0 when the domain does not exist (permanent), -1 on a DNS fault. */
int mx_lookup(const struct config *cfg, const char *domain, struct mx_host *out, int max);
/* The IPv4 addresses of host from dns_server: how many, 0 for none, -1 on a DNS fault. */
int mx_addrs(const struct config *cfg, const char *host, char out[][INET_ADDRSTRLEN], int max);
/* Try each MX by preference on mx_port (25) until one answers other than temporarily; with
 * dns_server set, the hosts' addresses come from it too. */
enum smtpc_result mx_send(const struct config *cfg, const char *domain, const char *from,
                          const char *rcpt, const char *msgpath, char *err, size_t errsz);

#endif
