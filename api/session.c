/* api/session.c: sessions stored in PostgreSQL by the SHA-256 of their token; API tokens the same. */
#include "api/session.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/util.h"

static const struct db_stmt st_admin = {
	"session_admin",
	"SELECT a.id, a.login, a.role, a.must_change_password, s.csrf_token, "
	" coalesce((SELECT string_agg(d.name, ',' ORDER BY d.name) FROM admin_domains ad "
	"           JOIN domains d ON d.id = ad.domain_id WHERE ad.admin_id = a.id), '') "
	"FROM sessions s JOIN admins a ON a.id = s.admin_id "
	"WHERE s.token_hash = $1 AND s.expires_at > $2::timestamptz AND NOT s.totp_pending", 2
};

static const struct db_stmt st_user = {
	"session_user",
	"SELECT ac.id, ac.name, d.name, ac.must_change_password, s.csrf_token, ac.temp_password "
	"FROM sessions s JOIN accounts ac ON ac.id = s.account_id JOIN domains d ON d.id = ac.domain_id "
	"WHERE s.token_hash = $1 AND s.expires_at > $2::timestamptz", 2
};

static const struct db_stmt st_token = {
	"session_token",
	"SELECT t.id, coalesce(a.login, 'token:' || t.id), t.role, coalesce(t.creator_id, 0), "
	" coalesce((SELECT string_agg(d.name, ',' ORDER BY d.name) FROM api_token_domains td "
	"           JOIN domains d ON d.id = td.domain_id WHERE td.token_id = t.id), '') "
	"FROM api_tokens t LEFT JOIN admins a ON a.id = t.creator_id "
	"WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2::timestamptz)", 2
};

static const struct db_stmt st_create = {
	"session_create",
	"INSERT INTO sessions (token_hash, admin_id, account_id, csrf_token, remote_addr, expires_at) "
	"VALUES ($1, $2, $3, $4, $5, $6::timestamptz + make_interval(hours => $7::int))", 7
};

static const struct db_stmt st_destroy = {
	"session_destroy", "DELETE FROM sessions WHERE token_hash = $1", 1
};

static const struct db_stmt st_drop_account = {
	"session_drop_account", "DELETE FROM sessions WHERE account_id = $1", 1
};

static const struct db_stmt st_drop_admin = {
	"session_drop_admin", "DELETE FROM sessions WHERE admin_id = $1", 1
};

static const struct db_stmt st_sweep = {
	"session_sweep", "DELETE FROM sessions WHERE expires_at < $1::timestamptz", 1
};

/* Split "a,b,c" into arena strings. */
static void
set_domains(struct api_ctx *c, struct principal *p, const char *list)
{
	size_t n = 0, i = 0;
	const char *s;
	char *copy, *tok, *save = NULL;

	if (*list == '\0')
		return;
	for (s = list, n = 1; *s; s++)
		if (*s == ',')
			n++;
	p->domains = arena_alloc(c->arena, n * sizeof(*p->domains));
	copy = arena_strdup(c->arena, list);
	if (p->domains == NULL || copy == NULL)
		return;
	for (tok = strtok_r(copy, ",", &save); tok && i < n; tok = strtok_r(NULL, ",", &save))
		p->domains[i++] = tok;
	p->ndomains = i;
}

enum lookup
session_load(struct api_ctx *c, const char *cookie_token, const char *bearer, struct principal **p_r)
{
	struct db_res *r = NULL;
	struct principal *p;
	char hash[65], now[32];
	enum lookup lk = LK_NOTFOUND;
	int role;

	*p_r = NULL;
	p = arena_alloc(c->arena, sizeof(*p));
	if (p == NULL)
		return LK_TEMPFAIL;
	clock_now_str(now, sizeof(now));
	if (bearer != NULL && *bearer) {
		sha256_hex(bearer, hash);
		if (db_runv(c->db, &st_token, &r, hash, now) != DB_OK)
			return LK_TEMPFAIL;
		if (db_rows(r) == 1 && (role = role_parse(db_val(r, 0, 2))) >= 0) {
			p->role = (enum role)role;
			p->token_id = db_i64(r, 0, 0);
			p->admin_id = db_i64(r, 0, 3);
			bstrcpy(p->login, sizeof(p->login), db_val(r, 0, 1));
			set_domains(c, p, db_val(r, 0, 4));
			lk = LK_FOUND;
		}
		goto out;
	}
	if (cookie_token == NULL || *cookie_token == '\0')
		goto out;
	sha256_hex(cookie_token, hash);
	bstrcpy(p->session_hash, sizeof(p->session_hash), hash);
	if (db_runv(c->db, &st_admin, &r, hash, now) != DB_OK)
		return LK_TEMPFAIL;
	if (db_rows(r) == 1 && (role = role_parse(db_val(r, 0, 2))) >= 0) {
		p->role = (enum role)role;
		p->admin_id = db_i64(r, 0, 0);
		bstrcpy(p->login, sizeof(p->login), db_val(r, 0, 1));
		p->must_change_password = db_bool(r, 0, 3);
		bstrcpy(p->csrf_token, sizeof(p->csrf_token), db_val(r, 0, 4));
		set_domains(c, p, db_val(r, 0, 5));
		lk = LK_FOUND;
		goto out;
	}
	db_res_free(&r);
	if (db_runv(c->db, &st_user, &r, hash, now) != DB_OK)
		return LK_TEMPFAIL;
	if (db_rows(r) == 1) {
		p->role = ROLE_USER;
		p->account_id = db_i64(r, 0, 0);
		bstrcpy(p->user_name, sizeof(p->user_name), db_val(r, 0, 1));
		bstrcpy(p->user_domain, sizeof(p->user_domain), db_val(r, 0, 2));
		bsnprintf(p->login, sizeof(p->login), "%s@%s", p->user_name, p->user_domain);
		p->must_change_password = db_bool(r, 0, 3);
		bstrcpy(p->csrf_token, sizeof(p->csrf_token), db_val(r, 0, 4));
		p->temp_password = db_bool(r, 0, 5);
		set_domains(c, p, p->user_domain);
		lk = LK_FOUND;
	}
out:
	db_res_free(&r);
	if (lk == LK_FOUND)
		*p_r = p;
	return lk;
}

int
session_create(struct api_ctx *c, int64_t admin_id, int64_t account_id, char token[65], char csrf_r[65])
{
	char hash[65], now[32], aid[24], uid[24], hours[24];
	int rc = -1;

	if (!random_hex(token, 65, 32) || !random_hex(csrf_r, 65, 32))
		return -1;
	sha256_hex(token, hash);
	bsnprintf(aid, sizeof(aid), "%lld", (long long)admin_id);
	bsnprintf(uid, sizeof(uid), "%lld", (long long)account_id);
	bsnprintf(hours, sizeof(hours), "%lld", (long long)c->cfg->session_hours);
	clock_now_str(now, sizeof(now));
	(void)db_runv(c->db, &st_sweep, NULL, now);
	if (db_runv(c->db, &st_create, NULL, hash, admin_id ? aid : NULL, account_id ? uid : NULL,
	    csrf_r, c->remote_addr ? c->remote_addr : "", now, hours) != DB_OK)
		goto out;
	/* HttpOnly: scripts never see it; SameSite=Lax plus the CSRF token on every state
	 * change; Secure whenever the request came over TLS. */
	bsnprintf(c->set_cookie, sizeof(c->set_cookie),
	    SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s", token,
	    (long long)c->cfg->session_hours * 3600, c->tls ? "; Secure" : "");
	rc = 0;
out:
	return rc;
}

int
session_destroy(struct api_ctx *c)
{
	int rc = 0;

	if (c->p != NULL && c->p->session_hash[0] != '\0')
		rc = db_runv(c->db, &st_destroy, NULL, c->p->session_hash) == DB_OK ? 0 : -1;
	bsnprintf(c->set_cookie, sizeof(c->set_cookie),
	    SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s", c->tls ? "; Secure" : "");
	return rc;
}

int
session_drop_account(struct db *db, int64_t account_id)
{
	char id[24];

	bsnprintf(id, sizeof(id), "%lld", (long long)account_id);
	return db_runv(db, &st_drop_account, NULL, id) == DB_OK ? 0 : -1;
}

int
session_drop_admin(struct db *db, int64_t admin_id)
{
	char id[24];

	bsnprintf(id, sizeof(id), "%lld", (long long)admin_id);
	return db_runv(db, &st_drop_admin, NULL, id) == DB_OK ? 0 : -1;
}
