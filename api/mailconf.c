/* api/mailconf.c: mail client settings (SPEC §9): the settings page, Thunderbird autoconfig XML
 * and an Apple configuration profile, all from the configuration's server names and ports. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/util.h"

static const struct db_stmt st_domain_hosted = {
	"mailconf_domain_hosted",
	"SELECT 1 FROM domains WHERE name = $1 UNION ALL SELECT 1 FROM domain_aliases WHERE name = $1", 1
};

/* One way of reaching a server: the port and how the connection is protected. */
struct endpoint {
	const char *proto;     /* "imap", "pop3", "smtp" */
	const char *host;
	int64_t port;
	const char *security;  /* "ssl" (implicit TLS) or "starttls" */
};

static const char *
host_or_default(const struct config *cfg, const char *h)
{
	return h[0] != '\0' ? h : cfg->hostname;
}

/* The six endpoints SPEC §9 lists, implicit TLS first (what clients should prefer). */
static size_t
endpoints(const struct config *cfg, struct endpoint out[6])
{
	const char *imap = host_or_default(cfg, cfg->imap_host);
	const char *pop3 = host_or_default(cfg, cfg->pop3_host);
	const char *smtp = host_or_default(cfg, cfg->smtp_host);

	out[0] = (struct endpoint){ "imap", imap, cfg->imaps_port, "ssl" };
	out[1] = (struct endpoint){ "imap", imap, cfg->imap_port, "starttls" };
	out[2] = (struct endpoint){ "pop3", pop3, cfg->pop3s_port, "ssl" };
	out[3] = (struct endpoint){ "pop3", pop3, cfg->pop3_port, "starttls" };
	out[4] = (struct endpoint){ "smtp", smtp, cfg->smtps_port, "ssl" };
	out[5] = (struct endpoint){ "smtp", smtp, cfg->submission_port, "starttls" };
	return 6;
}

/* GET /me/settings: what a mail program needs, for the signed-in user's address. */
static int
settings(struct api_ctx *c)
{
	struct endpoint ep[6];
	size_t i, n = endpoints(c->cfg, ep);
	json_t *out, *servers = json_object(), *rows = json_array();

	for (i = 0; i < n; i++) {
		json_t *s = json_object_get(servers, ep[i].proto);

		if (s == NULL) {
			s = json_pack("{s:s, s:[]}", "host", ep[i].host, "ports");
			json_object_set_new(servers, ep[i].proto, s);
		}
		json_array_append_new(json_object_get(s, "ports"), json_pack("{s:I, s:s}", "port",
		    (json_int_t)ep[i].port, "security", ep[i].security));
		/* Flat rows with booleans for the page (templates cannot compare strings). */
		json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:s, s:b, s:b, s:b, s:b}",
		    "proto", ep[i].proto, "host", ep[i].host, "port", (json_int_t)ep[i].port,
		    "security", ep[i].security, "ssl", strcmp(ep[i].security, "ssl") == 0,
		    "is_imap", strcmp(ep[i].proto, "imap") == 0, "is_pop3", strcmp(ep[i].proto, "pop3") == 0,
		    "is_smtp", strcmp(ep[i].proto, "smtp") == 0));
	}
	out = json_pack("{s:s, s:s, s:o, s:[s,s]}", "address", c->p->login, "username", c->p->login,
	    "servers", servers, "auth", "PLAIN", "LOGIN");
	if (c->html)
		json_object_set_new(out, "rows", rows);
	else
		json_decref(rows);
	return api_ok(c, 200, out);
}

static void
xml_text(struct buf *b, const char *s)
{
	buf_add_html(b, s, strlen(s));
}

/* The address Thunderbird asks for, split; false when malformed. */
static bool
split_address(const char *addr, char *local, size_t lsz, char *domain, size_t dsz)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	size_t ll;

	if (at == NULL || at == addr || at[1] == '\0')
		return false;
	ll = (size_t)(at - addr);
	if (ll >= lsz || !rule_lower(at + 1, domain, dsz) || !rule_domain_name(domain))
		return false;
	memcpy(local, addr, ll);
	local[ll] = '\0';
	return strchr(local, '<') == NULL && strchr(local, '&') == NULL;
}

/* GET /.well-known/autoconfig/mail/config-v1.1.xml and /mail/config-v1.1.xml, public:
 * Thunderbird's autoconfig format (clientConfig version 1.1). With ?emailaddress= the
 * answer names that domain (404 unless we host it); without, Thunderbird's placeholders. */
static int
autoconfig(struct api_ctx *c)
{
	const char *addr = json_string_value(json_object_get(c->query, "emailaddress"));
	char local[128], domain[256];
	struct endpoint ep[6];
	size_t i, n = endpoints(c->cfg, ep);
	struct db_res *r = NULL;
	struct buf *b = &c->raw;
	const char *dom = "%EMAILDOMAIN%";

	if (addr != NULL && *addr != '\0') {
		if (!split_address(addr, local, sizeof(local), domain, sizeof(domain)))
			return api_fail(c, 404, "not_found", NULL);
		if (db_runv(c->db, &st_domain_hosted, &r, domain) != DB_OK)
			return api_unavailable(c);
		if (db_rows(r) == 0) {
			db_res_free(&r);
			return api_fail(c, 404, "not_found", NULL);
		}
		db_res_free(&r);
		dom = domain;
	}
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n"
	    "  <emailProvider id=\"");
	xml_text(b, dom);
	buf_adds(b, "\">\n    <domain>");
	xml_text(b, dom);
	buf_adds(b, "</domain>\n    <displayName>");
	xml_text(b, dom);
	buf_adds(b, "</displayName>\n    <displayShortName>");
	xml_text(b, dom);
	buf_adds(b, "</displayShortName>\n");
	for (i = 0; i < n; i++) {
		bool out = strcmp(ep[i].proto, "smtp") == 0;

		buf_printf(b, "    <%s type=\"%s\">\n      <hostname>", out ? "outgoingServer" : "incomingServer",
		    ep[i].proto);
		xml_text(b, ep[i].host);
		/* Thunderbird's socketType: SSL = implicit TLS, STARTTLS; AUTH PLAIN/LOGIN over
		 * the protected connection is its "password-cleartext". */
		buf_printf(b, "</hostname>\n      <port>%lld</port>\n      <socketType>%s</socketType>\n"
		    "      <authentication>password-cleartext</authentication>\n"
		    "      <username>%%EMAILADDRESS%%</username>\n    </%s>\n", (long long)ep[i].port,
		    strcmp(ep[i].security, "ssl") == 0 ? "SSL" : "STARTTLS", out ? "outgoingServer" : "incomingServer");
	}
	buf_adds(b, "  </emailProvider>\n</clientConfig>\n");
	if (b->oom)
		return api_unavailable(c);
	c->raw_type = "application/xml; charset=utf-8";
	return 200;
}

/* A stable UUID per address and purpose, so downloading the profile again replaces the
 * installed one instead of adding a second account. */
static void
uuid_of(const char *address, const char *purpose, char out[37])
{
	char seed[400], h[65];

	(void)bsnprintf(seed, sizeof(seed), "yubin:%s:%s", purpose, address);
	sha256_hex(seed, h);
	h[12] = '5';                                          /* version 5 (name-based) */
	h[16] = "89ab"[(h[16] >= 'a' ? h[16] - 'a' + 10 : h[16] - '0') & 3];  /* RFC 4122 variant */
	(void)bsnprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static void
plist_str(struct buf *b, const char *key, const char *val)
{
	buf_adds(b, "\t\t\t<key>");
	xml_text(b, key);
	buf_adds(b, "</key>\n\t\t\t<string>");
	xml_text(b, val);
	buf_adds(b, "</string>\n");
}

/* GET /me/settings/mobileconfig: an Apple configuration profile (XML plist) with one IMAP
 * account over implicit TLS for the signed-in user, as a download. The password is not in
 * it: the device asks for it. */
static int
mobileconfig(struct api_ctx *c)
{
	const struct config *cfg = c->cfg;
	const char *addr = c->p->login;
	char u_top[37], u_mail[37], ident[400];
	struct buf *b = &c->raw;

	uuid_of(addr, "profile", u_top);
	uuid_of(addr, "mail", u_mail);
	if (!bsnprintf(ident, sizeof(ident), "yubin.%s.%s", c->p->user_domain, c->p->user_name))
		return api_fail(c, 400, "malformed", NULL);
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	    "<plist version=\"1.0\">\n<dict>\n\t<key>PayloadContent</key>\n\t<array>\n\t\t<dict>\n");
	plist_str(b, "EmailAccountDescription", addr);
	plist_str(b, "EmailAccountName", addr);
	plist_str(b, "EmailAccountType", "EmailTypeIMAP");
	plist_str(b, "EmailAddress", addr);
	plist_str(b, "IncomingMailServerAuthentication", "EmailAuthPassword");
	plist_str(b, "IncomingMailServerHostName", host_or_default(cfg, cfg->imap_host));
	buf_printf(b, "\t\t\t<key>IncomingMailServerPortNumber</key>\n\t\t\t<integer>%lld</integer>\n"
	    "\t\t\t<key>IncomingMailServerUseSSL</key>\n\t\t\t<true/>\n", (long long)cfg->imaps_port);
	plist_str(b, "IncomingMailServerUsername", addr);
	plist_str(b, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	plist_str(b, "OutgoingMailServerHostName", host_or_default(cfg, cfg->smtp_host));
	buf_printf(b, "\t\t\t<key>OutgoingMailServerPortNumber</key>\n\t\t\t<integer>%lld</integer>\n"
	    "\t\t\t<key>OutgoingMailServerUseSSL</key>\n\t\t\t<true/>\n"
	    "\t\t\t<key>OutgoingPasswordSameAsIncomingPassword</key>\n\t\t\t<true/>\n",
	    (long long)cfg->smtps_port);
	plist_str(b, "OutgoingMailServerUsername", addr);
	plist_str(b, "PayloadDisplayName", addr);
	buf_printf(b, "\t\t\t<key>PayloadIdentifier</key>\n\t\t\t<string>");
	xml_text(b, ident);
	buf_adds(b, ".mail</string>\n");
	plist_str(b, "PayloadType", "com.apple.mail.managed");
	plist_str(b, "PayloadUUID", u_mail);
	buf_adds(b, "\t\t\t<key>PayloadVersion</key>\n\t\t\t<integer>1</integer>\n"
	    "\t\t\t<key>PreventMove</key>\n\t\t\t<false/>\n\t\t</dict>\n\t</array>\n");
	buf_adds(b, "\t<key>PayloadDisplayName</key>\n\t<string>");
	xml_text(b, addr);
	buf_adds(b, "</string>\n\t<key>PayloadIdentifier</key>\n\t<string>");
	xml_text(b, ident);
	buf_printf(b, "</string>\n\t<key>PayloadRemovalDisallowed</key>\n\t<false/>\n"
	    "\t<key>PayloadType</key>\n\t<string>Configuration</string>\n"
	    "\t<key>PayloadUUID</key>\n\t<string>%s</string>\n"
	    "\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n</dict>\n</plist>\n", u_top);
	if (b->oom)
		return api_unavailable(c);
	c->raw_type = "application/x-apple-aspen-config";
	/* The name is the user's own validated address: letters, digits, - _ . @ only. */
	c->raw_disposition = arena_printf(c->arena, "attachment; filename=\"%s.mobileconfig\"", addr);
	return 200;
}

const struct api_route api_routes_mailconf[] = {
	{ "GET", "/me/settings", settings, R_USER, "mail/settings.html", NULL },
	{ "GET", "/me/settings/mobileconfig", mobileconfig, R_USER, NULL, NULL },
	{ "GET", "/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig, R_PUBLIC | R_HTML, NULL, NULL },
	{ "GET", "/mail/config-v1.1.xml", autoconfig, R_PUBLIC | R_HTML, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
