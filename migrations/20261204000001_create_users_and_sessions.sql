-- Accounts and their browser sessions.

CREATE TYPE user_role AS ENUM ('requester', 'reviewer', 'admin');

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The address can change, so it is not the identity. Single sign-on will
    -- identify a user by (oidc_issuer, oidc_subject) instead.
    email         text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    display_name  text NOT NULL CHECK (length(btrim(display_name)) > 0),
    department    text,
    role          user_role NOT NULL DEFAULT 'requester',
    -- NULL for accounts that can only sign in through single sign-on.
    password_hash text,
    oidc_issuer   text,
    oidc_subject  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_oidc_identity_key UNIQUE (oidc_issuer, oidc_subject),
    CONSTRAINT users_oidc_identity_complete
        CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
);

-- The layout that tower-sessions-sqlx-store reads and writes. It is created
-- here rather than by the store so that every table comes from a migration.
CREATE TABLE sessions (
    id          text PRIMARY KEY,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);

CREATE INDEX sessions_expiry_date_idx ON sessions (expiry_date);
