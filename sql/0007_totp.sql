-- sql/0007_totp.sql: the last TOTP time step an admin signed in with, so a code is accepted once (RFC 6238 §5.2).
ALTER TABLE admins ADD COLUMN IF NOT EXISTS totp_last_step bigint NOT NULL DEFAULT 0;
