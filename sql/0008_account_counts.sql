-- sql/0008_account_counts.sql: each domain's number of accounts as rows of deltas, so the account
-- list answers its total without counting a 10,000-account domain on every page.
--
-- Why deltas and not one counter per domain: a counter row would be locked by every
-- transaction that creates or deletes an account until it commits, and a CSV import holds
-- its transaction open for minutes while it hashes. Here each statement that inserts or
-- deletes accounts only appends a row (+n or -n), which no one else ever locks; the total is
-- their sum, read in the same snapshot as the accounts themselves. The panel folds a
-- domain's rows into one from time to time (api/accounts.c st_counts_fold) in a short
-- transaction of its own: it deletes only committed rows, so two folds at once or a fold
-- beside an open import stay exact.
CREATE TABLE IF NOT EXISTS account_counts (
	id         bigserial PRIMARY KEY,
	domain_id  bigint NOT NULL,
	n          bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS account_counts_domain ON account_counts (domain_id);

CREATE FUNCTION yubin_account_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO account_counts (domain_id, n)
		SELECT domain_id, count(*) FROM added GROUP BY domain_id;
	RETURN NULL;
END $$;

-- An account deleted with its domain (ON DELETE CASCADE) leaves no row: the domain is
-- already gone from this statement's view, and its rows go with it (below).
CREATE FUNCTION yubin_account_counts_sub() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO account_counts (domain_id, n)
		SELECT o.domain_id, -count(*) FROM removed o
		WHERE EXISTS (SELECT 1 FROM domains d WHERE d.id = o.domain_id)
		GROUP BY o.domain_id;
	RETURN NULL;
END $$;

CREATE FUNCTION yubin_account_counts_domain_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM account_counts WHERE domain_id = OLD.id;
	RETURN NULL;
END $$;

CREATE TRIGGER accounts_count_add AFTER INSERT ON accounts
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION yubin_account_counts_add();
CREATE TRIGGER accounts_count_sub AFTER DELETE ON accounts
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION yubin_account_counts_sub();
CREATE TRIGGER domains_count_gone AFTER DELETE ON domains
	FOR EACH ROW EXECUTE FUNCTION yubin_account_counts_domain_gone();

-- Accounts never move between domains; refuse it rather than let the counts drift.
CREATE FUNCTION yubin_account_domain_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'an account cannot move to another domain' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER accounts_domain_fixed BEFORE UPDATE OF domain_id ON accounts
	FOR EACH ROW WHEN (OLD.domain_id IS DISTINCT FROM NEW.domain_id)
	EXECUTE FUNCTION yubin_account_domain_fixed();

-- The accounts already there (the migration runs under yubinctl's advisory lock).
INSERT INTO account_counts (domain_id, n)
	SELECT domain_id, count(*) FROM accounts GROUP BY domain_id;
