-- Email notifications: each user's choice, and a transactional outbox that
-- a worker sends from, so a notification is written in the same transaction
-- as the change that causes it.

CREATE TYPE notification_preference AS ENUM ('every_update', 'decisions_only');

ALTER TABLE users
    ADD COLUMN notification_preference notification_preference NOT NULL DEFAULT 'every_update';

CREATE TYPE outbox_status AS ENUM ('pending', 'sent', 'failed');

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id      bigint REFERENCES requests (id),
    -- What caused it, such as submitted, question or decision.
    kind            text NOT NULL CHECK (length(btrim(kind)) > 0),
    recipient       text NOT NULL CHECK (recipient LIKE '%_@_%'),
    subject         text NOT NULL CHECK (length(btrim(subject)) > 0),
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    -- Message-ID, and the id every message of one request refers to, so
    -- mail clients thread them together.
    message_id      text NOT NULL UNIQUE,
    thread_id       text NOT NULL,
    status          outbox_status NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CONSTRAINT outbox_sent_has_time CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_failed_idx ON outbox (created_at DESC) WHERE status = 'failed';
