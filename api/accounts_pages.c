/* api/accounts_pages.c: the account pages that have no API twin: the create form and the confirmation pages
 * (SPEC §2: deleting one or several accounts, deleting mail data, switching spam tag, spam sort or receive). */
#include <string.h>

#include "api/account_view.h"
#include "api/accounts.h"
#include "api/ref.h"
#include "core/util.h"

static const struct db_stmt st_has_all_rule = {
	"accounts_pages_all_rule",
	"SELECT EXISTS (SELECT 1 FROM forward_rules WHERE account_id = $1::bigint AND condition = 'all')", 1
};

int
accounts_receive_warning(struct api_ctx *c, const struct acct_ref *ref, json_t *acct)
{
	struct db_res *r = NULL;

	if (json_is_true(json_object_get(acct, "receive")))
		return 0;
	if (db_runv(c->db, &st_has_all_rule, &r, ref->id_s) != DB_OK)
		return -1;
	if (!db_bool(r, 0, 0))
		json_object_set_new(acct, "no_all_forward_warning", json_true());
	db_res_free(&r);
	return 0;
}

/* GET /domains/{d}/new-account */
int
accounts_new_form(struct api_ctx *c)
{
	struct domain_ref dom;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	return api_ok(c, 200, json_pack("{s:s, s:I}", "domain", dom.name, "default_quota_mb",
	    (json_int_t)dom.default_quota_mb));
}

/* GET /domains/{d}/delete-accounts?names[]=a&names[]=b: the one confirmation of a bulk
 * delete. A list with postmaster says so here already and offers no delete button. */
int
accounts_bulk_confirm(struct api_ctx *c)
{
	struct domain_ref dom;
	const char **names;
	json_t *list, *out;
	size_t n, i;
	bool system = false;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if ((status = accounts_read_names(c, c->query, &names, &n)) != 0)
		return status;
	list = json_array();
	for (i = 0; i < n; i++) {
		bool sys = strcmp(names[i], "postmaster") == 0;

		system = system || sys;
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "name", names[i], "address",
		    arena_printf(c->arena, "%s@%s", names[i], dom.name), "system", sys));
	}
	out = json_pack("{s:s, s:o, s:I, s:b}", "domain", dom.name, "names", list, "count",
	    (json_int_t)n, "has_system", system);
	return out ? api_ok(c, 200, out) : api_unavailable(c);
}

/* The account of the path as the page object, for the confirmation pages. */
static int
load(struct api_ctx *c, struct acct_ref *ref, json_t **acct)
{
	int status;

	if ((status = api_account_ref(c, ref)) != 0)
		return status;
	return acct_view_load(c, ref, acct);
}

/* GET …/accounts/{name}/delete */
int
accounts_delete_confirm(struct api_ctx *c)
{
	struct acct_ref ref;
	json_t *acct;
	int status;

	if ((status = load(c, &ref, &acct)) != 0)
		return status;
	return api_ok(c, 200, acct);
}

/* GET …/accounts/{name}/purge-mail */
int
accounts_purge_confirm(struct api_ctx *c)
{
	return accounts_delete_confirm(c);
}

/* GET …/accounts/{name}/toggle?field=spam_tag|spam_sort|receive&value=0|1 */
int
accounts_toggle_confirm(struct api_ctx *c)
{
	struct acct_ref ref;
	const char *field = json_string_value(json_object_get(c->query, "field"));
	const char *value = json_string_value(json_object_get(c->query, "value"));
	json_t *acct;
	bool on;
	int status;

	if (field == NULL || value == NULL || (strcmp(field, "spam_tag") && strcmp(field, "spam_sort") &&
	    strcmp(field, "receive")) || (strcmp(value, "0") && strcmp(value, "1")))
		return api_fail(c, 404, "not_found", NULL);
	on = value[0] == '1';
	if ((status = load(c, &ref, &acct)) != 0)
		return status;
	json_object_set_new(acct, "field", json_string(field));
	json_object_set_new(acct, "value", json_boolean(on));
	json_object_set_new(acct, "value_s", json_string(value));
	json_object_set_new(acct, "current", json_boolean(json_is_true(json_object_get(acct, field))));
	json_object_set_new(acct, arena_printf(c->arena, "is_%s", field), json_true());
	/* SPEC §5: spam sort hides spam from POP3 clients; SPEC §3: receive off without an
	 * `all` forward discards whatever no rule matches. */
	if (!strcmp(field, "spam_sort") && on)
		json_object_set_new(acct, "pop3_note", json_true());
	if (!strcmp(field, "receive") && !on) {
		/* Warn about the state the change would make: receive off. */
		bool was = json_is_true(json_object_get(acct, "receive"));

		json_object_set_new(acct, "receive", json_false());
		if (accounts_receive_warning(c, &ref, acct) != 0) {
			json_decref(acct);
			return api_unavailable(c);
		}
		json_object_set_new(acct, "receive", json_boolean(was));
	}
	return api_ok(c, 200, acct);
}
