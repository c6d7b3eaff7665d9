/* api/accounts.h: what api/accounts.c and api/accounts_pages.c (its confirmation pages) share. */
#ifndef YUBIN_API_ACCOUNTS_H
#define YUBIN_API_ACCOUNTS_H

#include "api/api.h"
#include "api/ref.h"

/* Largest bulk delete in one request: the names travel in one body (forms allow
 * DECODE_MAX_FIELDS fields) and are deleted in one transaction. */
#define ACCOUNTS_BULK_MAX 2000
/* per_page of the account list (CONTRACT). */
#define ACCOUNTS_PER_PAGE 50
#define ACCOUNTS_PER_PAGE_MAX 500

/* Page-only handlers (api/accounts_pages.c), rows in api_routes_accounts. */
int accounts_new_form(struct api_ctx *c);        /* GET /domains/{d}/new-account */
int accounts_bulk_confirm(struct api_ctx *c);    /* GET /domains/{d}/delete-accounts (names[] in the query) */
int accounts_delete_confirm(struct api_ctx *c);  /* GET …/accounts/{name}/delete: confirmation */
int accounts_purge_confirm(struct api_ctx *c);   /* GET …/accounts/{name}/purge-mail */
int accounts_toggle_confirm(struct api_ctx *c);  /* GET …/accounts/{name}/toggle?field=&value= */

/* Sets acct.no_all_forward_warning when receive is off and no `all` forward exists (mail
 * no rule matches would be discarded, SPEC §3). 0, or -1 on a database fault. */
int accounts_receive_warning(struct api_ctx *c, const struct acct_ref *ref, json_t *acct);

/* Lower-case, validated account names from src's "names" (array, or one string: a single
 * ticked checkbox), each once, into an arena array. 0 with *names_r and *n_r, or 422 answered
 * (names: required, too_many, invalid). */
int accounts_read_names(struct api_ctx *c, json_t *src, const char ***names_r, size_t *n_r);

#endif
