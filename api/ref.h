/* api/ref.h: resolving the domain and account a request names, with the scope check first
 * (CONTRACT: a domain outside the caller's scope is 403 whether or not it exists). */
#ifndef YUBIN_API_REF_H
#define YUBIN_API_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

struct domain_ref {
	int64_t id;
	char id_s[24];            /* the id as text, for statement parameters */
	const char *name;         /* lower-case */
	int64_t default_quota_mb;
};

struct acct_ref {
	struct domain_ref dom;
	int64_t id;
	char id_s[24];
	const char *name;         /* lower-case local part */
	const char *address;      /* name@domain */
	bool is_system;
};

/* The domain of path parameter {d}. 0 with *ref filled, or an HTTP status whose error
 * is already in c->out: 403 (out of scope), 404 (no such domain), 503. */
int api_domain_ref(struct api_ctx *c, struct domain_ref *ref);
/* The account of {d}/{name}; for role user on /me routes (no {d}) the caller's own. 0, or
 * 403 / 404 / 503 answered. */
int api_account_ref(struct api_ctx *c, struct acct_ref *ref);

#endif
