-- API keys: only a SHA-256 of each secret is kept, so a copy of the database
-- does not hand out working keys. Revocation is a timestamp (never a delete)
-- so the ledger can still say which key posted what, and when it stopped.

CREATE TABLE api_keys (
    key_id         text PRIMARY KEY,
    secret_sha256  bytea NOT NULL CHECK (length(secret_sha256) = 32),
    role           text NOT NULL CHECK (role IN ('admin', 'auditor', 'reader', 'bank',
                       'guarantor', 'reguarantor', 'national_fund', 'compensation_pool',
                       'reviewer')),
    institution_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    -- Institution kinds are roles only through an institution; the other three never are.
    CHECK ((role IN ('admin', 'auditor', 'reader')) = (institution_id IS NULL))
);

GRANT SELECT, INSERT, UPDATE ON api_keys TO ledger_service;

-- Readiness (`/readyz`) asks, as the service role, whether migrations are pending.
GRANT SELECT ON schema_migrations TO ledger_service;
