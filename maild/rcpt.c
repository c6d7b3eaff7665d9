/* maild/rcpt.c: one prepared statement resolves a recipient through accounts, aliases, domain aliases
 * and the catch-all, so no cached row can outlive a change (CONTRACT read-your-writes). */
#include "maild/rcpt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"

/* The domain row (by its name or a domain alias), then the best match of the local part:
 * the account, else an alias, else the catch-all account. No match: one row with NULLs,
 * telling "our domain, unknown user" from "not our domain" (no row). */
static const struct db_stmt st_resolve = {
	"rcpt_resolve",
	"WITH d AS ("
	"  SELECT dm.id, dm.catchall_account_id AS catchall FROM domains dm WHERE dm.name = $2"
	"  UNION ALL"
	"  SELECT dm.id, dm.catchall_account_id FROM domain_aliases da JOIN domains dm ON dm.id = da.domain_id"
	"  WHERE da.name = $2 LIMIT 1"
	") SELECT a.id, a.name, dd.name, a.quota_mb, a.usage_bytes, a.receive, a.spam_tag, a.spam_sort, "
	"  NOT EXISTS (SELECT 1 FROM forward_rules fr WHERE fr.account_id = a.id), "
	"  NOT EXISTS (SELECT 1 FROM autoreplies ar WHERE ar.account_id = a.id AND ar.body <> '') "
	"FROM d LEFT JOIN LATERAL ("
	"  SELECT m.id FROM ("
	"    SELECT x.id, 1 AS pri FROM accounts x WHERE x.domain_id = d.id AND x.name = $1"
	"    UNION ALL SELECT al.account_id, 2 FROM aliases al WHERE al.domain_id = d.id AND al.name = $1"
	"    UNION ALL SELECT d.catchall, 3 WHERE d.catchall IS NOT NULL"
	"  ) m ORDER BY m.pri LIMIT 1"
	") hit ON true "
	"LEFT JOIN accounts a ON a.id = hit.id LEFT JOIN domains dd ON dd.id = a.domain_id", 2
};

static const struct db_stmt st_domain = {
	"rcpt_domain",
	"SELECT 1 FROM domains WHERE name = $1 UNION ALL SELECT 1 FROM domain_aliases WHERE name = $1", 1
};

static const struct db_stmt st_own = {
	"rcpt_own",
	"SELECT 1 FROM accounts a JOIN domains d ON d.id = a.domain_id "
	"WHERE a.id = $1 AND (a.name || '@' || d.name = $2"
	"  OR EXISTS (SELECT 1 FROM aliases al WHERE al.account_id = a.id AND al.name || '@' || d.name = $2)"
	"  OR EXISTS (SELECT 1 FROM domain_aliases da WHERE da.domain_id = d.id AND"
	"    (a.name || '@' || da.name = $2 OR EXISTS (SELECT 1 FROM aliases al2 WHERE al2.account_id = a.id"
	"     AND al2.name || '@' || da.name = $2))))", 2
};

static void
lower(char *dst, size_t dstsz, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

enum lookup
rcpt_lookup(struct db *db, const char *local, const char *domain, struct rcpt_info *r,
            bool *domain_local_r)
{
	struct db_res *res = NULL;
	char lp[128], dom[256];
	enum lookup lk = LK_TEMPFAIL;

	memset(r, 0, sizeof(*r));
	*domain_local_r = false;
	lower(lp, sizeof(lp), local);
	lower(dom, sizeof(dom), domain);
	if (db_runv(db, &st_resolve, &res, lp, dom) != DB_OK)
		goto out;
	if (db_rows(res) == 0) {
		lk = LK_NOTFOUND;
		goto out;
	}
	*domain_local_r = true;
	if (db_null(res, 0, 0)) {
		lk = LK_NOTFOUND;
		goto out;
	}
	r->account_id = db_i64(res, 0, 0);
	bstrcpy(r->name, sizeof(r->name), db_val(res, 0, 1));
	bstrcpy(r->domain, sizeof(r->domain), db_val(res, 0, 2));
	r->quota_mb = db_i64(res, 0, 3);
	r->usage_bytes = db_i64(res, 0, 4);
	r->receive = db_bool(res, 0, 5);
	r->spam_tag = db_bool(res, 0, 6);
	r->spam_sort = db_bool(res, 0, 7);
	r->no_forwards = db_bool(res, 0, 8);
	r->no_autoreply = db_bool(res, 0, 9);
	if (!bsnprintf(r->address, sizeof(r->address), "%s@%s", r->name, r->domain) ||
	    !bsnprintf(r->rcpt, sizeof(r->rcpt), "%s@%s", lp, dom))
		goto out;
	lk = LK_FOUND;
out:
	db_res_free(&res);
	return lk;
}

enum lookup
rcpt_domain_is_local(struct db *db, const char *domain)
{
	struct db_res *res = NULL;
	char dom[256];
	enum lookup lk = LK_TEMPFAIL;

	lower(dom, sizeof(dom), domain);
	if (db_runv(db, &st_domain, &res, dom) == DB_OK)
		lk = db_rows(res) > 0 ? LK_FOUND : LK_NOTFOUND;
	db_res_free(&res);
	return lk;
}

enum lookup
rcpt_is_own_address(struct db *db, int64_t account_id, const char *address)
{
	struct db_res *res = NULL;
	char id[24], addr[330];
	enum lookup lk = LK_TEMPFAIL;

	snprintf(id, sizeof(id), "%lld", (long long)account_id);
	lower(addr, sizeof(addr), address);
	if (db_runv(db, &st_own, &res, id, addr) == DB_OK)
		lk = db_rows(res) > 0 ? LK_FOUND : LK_NOTFOUND;
	db_res_free(&res);
	return lk;
}

bool
rcpt_over_quota(const struct rcpt_info *r)
{
	return r->usage_bytes > r->quota_mb * INT64_C(1048576);
}

/* One row an hour per address at most: anyone may send, so a flood of mail to a full mailbox
 * must not become a flood of log rows. */
static const struct db_stmt st_quota_audit = {
	"rcpt_quota_audit",
	"INSERT INTO audit_log (at, domain, actor, actor_role, action, target, remote_addr, details) "
	"SELECT $1::timestamptz, $2, 'maild', 'system', 'smtp_rcpt_refused', $3, $4, "
	" jsonb_build_object('reason', 'over_quota', 'protocol', 'smtp', "
	"  'usage_bytes', $5::bigint, 'quota_mb', $6::bigint) "
	"WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE domain = $2 AND at > $1::timestamptz - interval '1 hour' "
	" AND action = 'smtp_rcpt_refused' AND target = $3)", 6
};

void
rcpt_audit_over_quota(struct db *db, const struct rcpt_info *r, const char *peer)
{
	char now[32], usage[24], quota[24];

	snprintf(usage, sizeof(usage), "%lld", (long long)r->usage_bytes);
	snprintf(quota, sizeof(quota), "%lld", (long long)r->quota_mb);
	if (db_runv(db, &st_quota_audit, NULL, clock_now_str(now, sizeof(now)), r->domain, r->address,
	    peer ? peer : "", usage, quota) != DB_OK)
		log_warnx("rcpt: over-quota audit row for %s not written: %s", r->address, db_errmsg(db));
}
