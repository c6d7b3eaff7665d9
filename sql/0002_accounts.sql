-- sql/0002_accounts.sql: indexes the admin side needs: deleting accounts and domains in bulk, sessions per owner, tokens per creator.
-- Every foreign key that cascades from accounts or domains gets an index on its referencing
-- column, so deleting 10,000 accounts in one transaction is not 10,000 sequential scans.

CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_admin ON sessions (admin_id) WHERE admin_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS domains_catchall ON domains (catchall_account_id) WHERE catchall_account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS admin_domains_domain ON admin_domains (domain_id);
CREATE INDEX IF NOT EXISTS api_token_domains_domain ON api_token_domains (domain_id);
CREATE INDEX IF NOT EXISTS api_tokens_creator ON api_tokens (creator_id);
-- The account list's status filter and the support console look for the abnormal few.
CREATE INDEX IF NOT EXISTS accounts_compromised ON accounts (domain_id) WHERE compromised;
CREATE INDEX IF NOT EXISTS accounts_send_locked ON accounts (domain_id) WHERE send_locked_at IS NOT NULL;
-- Audit pages read newest first per domain; the id breaks ties of one second.
CREATE INDEX IF NOT EXISTS audit_log_domain_at_id ON audit_log (domain, at DESC, id DESC);
