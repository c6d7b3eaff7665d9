-- sql/0001_init.sql: the whole data model of SPEC.md: domains, accounts, aliases, forwards,
-- autoreplies, admins, sessions, tokens, lockout counters, audit, jobs, send counters.
-- Applied once by `yubinctl migrate` inside one transaction; never edited after release.

CREATE TABLE domains (
	id               bigserial PRIMARY KEY,
	name             text NOT NULL UNIQUE CHECK (name = lower(name) AND length(name) BETWEEN 3 AND 253),
	default_quota_mb integer NOT NULL DEFAULT 1024 CHECK (default_quota_mb >= 1),
	catchall_account_id bigint,                 -- FK below (accounts refer to domains)
	created_at       timestamptz NOT NULL DEFAULT now()
);

-- SPEC §10: every address of the target domain also receives at the alias domain.
CREATE TABLE domain_aliases (
	name       text PRIMARY KEY CHECK (name = lower(name)),
	domain_id  bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- One namespace for domain names and domain-alias names.
CREATE FUNCTION yubin_domain_name_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'domains' THEN
		PERFORM pg_advisory_xact_lock(hashtext('domain:' || NEW.name));
		IF EXISTS (SELECT 1 FROM domain_aliases WHERE name = NEW.name) THEN
			RAISE EXCEPTION 'name % is a domain alias', NEW.name USING ERRCODE = '23505';
		END IF;
	ELSE
		PERFORM pg_advisory_xact_lock(hashtext('domain:' || NEW.name));
		IF EXISTS (SELECT 1 FROM domains WHERE name = NEW.name) THEN
			RAISE EXCEPTION 'name % is a domain', NEW.name USING ERRCODE = '23505';
		END IF;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER domains_name_free BEFORE INSERT OR UPDATE OF name ON domains
	FOR EACH ROW EXECUTE FUNCTION yubin_domain_name_free();
CREATE TRIGGER domain_aliases_name_free BEFORE INSERT OR UPDATE OF name ON domain_aliases
	FOR EACH ROW EXECUTE FUNCTION yubin_domain_name_free();

-- Local parts of a domain: accounts and aliases share it (SPEC §10), so two panels racing
-- for one name get a unique violation, whichever table each writes.
CREATE TABLE local_names (
	domain_id bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
	name      text NOT NULL,
	kind      text NOT NULL CHECK (kind IN ('account', 'alias')),
	PRIMARY KEY (domain_id, name)
);

CREATE TABLE accounts (
	id                   bigserial PRIMARY KEY,
	domain_id            bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
	name                 text NOT NULL CHECK (name = lower(name) AND length(name) BETWEEN 2 AND 64),
	password_hash        text NOT NULL,
	quota_mb             integer NOT NULL CHECK (quota_mb >= 1),
	usage_bytes          bigint NOT NULL DEFAULT 0 CHECK (usage_bytes >= 0),
	comment              text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 255),
	spam_tag             boolean NOT NULL DEFAULT false,   -- SPEC §5: default OFF
	spam_sort            boolean NOT NULL DEFAULT false,
	receive              boolean NOT NULL DEFAULT true,    -- SPEC §3: default ON
	is_system            boolean NOT NULL DEFAULT false,   -- postmaster (SPEC §2)
	compromised          boolean NOT NULL DEFAULT false,
	compromised_at       timestamptz,
	must_change_password boolean NOT NULL DEFAULT false,
	temp_password        boolean NOT NULL DEFAULT false,   -- the hash is a temporary password (panel only)
	send_locked_at       timestamptz,                      -- send lock set at (lifts 24 h later)
	password_changed_at  timestamptz NOT NULL DEFAULT now(),
	created_at           timestamptz NOT NULL DEFAULT now(),
	updated_at           timestamptz NOT NULL DEFAULT now(),
	UNIQUE (domain_id, name)
);
CREATE INDEX accounts_domain_name ON accounts (domain_id, name text_pattern_ops);

ALTER TABLE domains ADD CONSTRAINT domains_catchall_fk
	FOREIGN KEY (catchall_account_id) REFERENCES accounts(id) ON DELETE SET NULL;

CREATE TABLE aliases (
	id         bigserial PRIMARY KEY,
	domain_id  bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
	name       text NOT NULL CHECK (name = lower(name)),
	account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (domain_id, name)
);
CREATE INDEX aliases_account ON aliases (account_id);

CREATE FUNCTION yubin_local_names_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO local_names (domain_id, name, kind)
		VALUES (NEW.domain_id, NEW.name, CASE TG_TABLE_NAME WHEN 'accounts' THEN 'account' ELSE 'alias' END);
		RETURN NEW;
	END IF;
	DELETE FROM local_names WHERE domain_id = OLD.domain_id AND name = OLD.name;
	RETURN OLD;
END $$;
CREATE TRIGGER accounts_local_names AFTER INSERT OR DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION yubin_local_names_sync();
CREATE TRIGGER aliases_local_names AFTER INSERT OR DELETE ON aliases
	FOR EACH ROW EXECUTE FUNCTION yubin_local_names_sync();

-- SPEC §3. condition all: one rule per address; from/subject: one rule listing addresses.
CREATE TABLE forward_rules (
	id         bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	condition  text NOT NULL CHECK (condition IN ('all', 'from', 'subject')),
	keyword    text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forward_rules_account ON forward_rules (account_id);

CREATE TABLE forward_addresses (
	rule_id bigint NOT NULL REFERENCES forward_rules(id) ON DELETE CASCADE,
	address text NOT NULL,
	PRIMARY KEY (rule_id, address)
);

-- SPEC §4: one text per account; "set" = non-empty.
CREATE TABLE autoreplies (
	account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	body       text NOT NULL,
	start_at   timestamptz,
	end_at     timestamptz,
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- RFC 3834 "at most one reply per sender per day".
CREATE TABLE autoreply_history (
	account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	sender     text NOT NULL,
	replied_at timestamptz NOT NULL,
	PRIMARY KEY (account_id, sender)
);

-- SPEC §6 send lock: messages sent per account, bucketed per hour for the 24 h window.
CREATE TABLE send_counts (
	account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	hour       timestamptz NOT NULL,
	count      integer NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, hour)
);

CREATE TABLE admins (
	id                   bigserial PRIMARY KEY,
	login                text NOT NULL UNIQUE CHECK (login = lower(login) AND length(login) BETWEEN 1 AND 320),
	password_hash        text NOT NULL,
	role                 text NOT NULL CHECK (role IN ('superadmin', 'domain_admin', 'support')),
	must_change_password boolean NOT NULL DEFAULT false,
	totp_secret          text,                    -- base32, set while enrolling or enrolled
	totp_enabled         boolean NOT NULL DEFAULT false,
	created_at           timestamptz NOT NULL DEFAULT now(),
	updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE admin_domains (
	admin_id  bigint NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
	domain_id bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
	PRIMARY KEY (admin_id, domain_id)
);

CREATE TABLE admin_recovery_codes (
	admin_id  bigint NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
	code_hash text NOT NULL,                      -- sha256 hex of the code
	used_at   timestamptz,
	PRIMARY KEY (admin_id, code_hash)
);

-- Sessions live in the database so any number of panel instances can serve them
-- (DESIGN.md "Scale"); only a hash of the cookie's token is stored.
CREATE TABLE sessions (
	token_hash   text PRIMARY KEY,
	admin_id     bigint REFERENCES admins(id) ON DELETE CASCADE,
	account_id   bigint REFERENCES accounts(id) ON DELETE CASCADE,
	csrf_token   text NOT NULL,
	lang         text,
	totp_pending boolean NOT NULL DEFAULT false,  -- password ok, second factor still due
	remote_addr  text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	CHECK ((admin_id IS NULL) <> (account_id IS NULL))
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
	id          bigserial PRIMARY KEY,
	token_hash  text NOT NULL UNIQUE,
	label       text NOT NULL DEFAULT '',
	role        text NOT NULL CHECK (role IN ('superadmin', 'domain_admin', 'support')),
	creator_id  bigint REFERENCES admins(id) ON DELETE CASCADE,
	expires_at  timestamptz,
	created_at  timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz
);

CREATE TABLE api_token_domains (
	token_id  bigint NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
	domain_id bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
	PRIMARY KEY (token_id, domain_id)
);

-- Failed authentications per login string (admin login or mail address, existing or not),
-- shared by the panel, SMTP AUTH, POP3 and Dovecot (CONTRACT "Failed authentications").
CREATE TABLE auth_failures (
	login        text PRIMARY KEY,
	failures     integer NOT NULL DEFAULT 0,
	last_failure timestamptz,
	locked_until timestamptz,
	locked_at    timestamptz
);

-- Failed panel sign-ins per client address, one row per address and minute.
CREATE TABLE ip_failures (
	remote_addr text NOT NULL,
	minute      timestamptz NOT NULL,
	count       integer NOT NULL DEFAULT 0,
	PRIMARY KEY (remote_addr, minute)
);

CREATE TABLE audit_log (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT now(),
	domain      text,                  -- kept as text: the log outlives a deleted domain
	actor       text NOT NULL,
	actor_role  text NOT NULL,
	action      text NOT NULL,
	target      text NOT NULL DEFAULT '',
	remote_addr text NOT NULL DEFAULT '',
	details     jsonb
);
CREATE INDEX audit_log_domain_at ON audit_log (domain, at DESC);

-- Long work (SPEC §7, §8), taken with FOR UPDATE SKIP LOCKED so several workers share it.
CREATE TABLE jobs (
	id          bigserial PRIMARY KEY,
	kind        text NOT NULL CHECK (kind IN ('csv_create', 'csv_edit', 'purge_mail', 'delete_account', 'mail_copy')),
	state       text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
	domain      text,
	account     text,                  -- local part, for mailbox jobs
	account_id  bigint,                -- no FK: a delete_account job outlives its account
	actor       text NOT NULL DEFAULT '',
	params      jsonb NOT NULL DEFAULT '{}',
	input       bytea,                 -- uploaded CSV
	done        integer NOT NULL DEFAULT 0,
	total       integer NOT NULL DEFAULT 0,
	errors      jsonb NOT NULL DEFAULT '[]',
	result      jsonb,
	worker      text,
	attempts    integer NOT NULL DEFAULT 0,
	created_at  timestamptz NOT NULL DEFAULT now(),
	started_at  timestamptz,
	heartbeat_at timestamptz,
	finished_at timestamptz
);
CREATE INDEX jobs_queued ON jobs (kind, id) WHERE state IN ('queued', 'running');

-- SPEC §8 mail data copy: messages already copied, so a rerun never duplicates.
CREATE TABLE mail_copy_seen (
	account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	source_host text NOT NULL,
	folder      text NOT NULL,
	uidvalidity bigint NOT NULL,
	uid         bigint NOT NULL,
	PRIMARY KEY (account_id, source_host, folder, uidvalidity, uid)
);

-- Least-privilege roles (NOLOGIN until an operator gives them a password). Roles are
-- cluster-wide, so they may exist already from another database.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'yubin_panel') THEN
		CREATE ROLE yubin_panel NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'yubin_maild') THEN
		CREATE ROLE yubin_maild NOLOGIN;
	END IF;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO yubin_panel;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO yubin_panel;
-- maild reads configuration, writes usage, history, counters, lockouts, audit and jobs.
GRANT SELECT ON domains, domain_aliases, local_names, accounts, aliases, forward_rules,
	forward_addresses, autoreplies TO yubin_maild;
GRANT UPDATE (usage_bytes, send_locked_at, updated_at) ON accounts TO yubin_maild;
GRANT SELECT, INSERT, UPDATE, DELETE ON autoreply_history, send_counts, auth_failures,
	mail_copy_seen TO yubin_maild;
GRANT SELECT, UPDATE ON jobs TO yubin_maild;
GRANT INSERT ON audit_log TO yubin_maild;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO yubin_maild;
