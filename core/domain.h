/* core/domain.h: creating a domain with its postmaster, shared by yubinctl and the API. */
#ifndef YUBIN_CORE_DOMAIN_H
#define YUBIN_CORE_DOMAIN_H

#include <stdint.h>

#include "core/db.h"

/* Insert domain `name` (lower-case, valid) with its default quota and the system account
 * postmaster (a random password nobody knows until an admin sets one), and NOTIFY — all
 * in the caller's transaction when one is open, else in its own. DB_CONFLICT when the
 * name is taken (domain or domain alias). *id_r gets the new id. */
enum db_status domain_add(struct db *db, const char *name, int64_t quota_mb, int64_t *id_r);

#endif
