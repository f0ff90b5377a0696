-- The reviewer workflow: assignment, optimistic concurrency, decisions, and
-- a history that records notes, replies, questions and field edits.

ALTER TABLE requests
    -- Incremented on every status change; a reviewer's form carries the
    -- version it was rendered from, so a stale form cannot overwrite.
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN assignee_id bigint REFERENCES users (id),
    ADD COLUMN rejection_reason text,
    -- The advice IST gave when it completed the request.
    ADD COLUMN advice text,
    -- While the request waits for the requester: the question and the
    -- fields the reviewer asked them to change.
    ADD COLUMN open_question text,
    ADD COLUMN question_fields text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT requests_rejection_has_reason
        CHECK (status <> 'rejected' OR length(btrim(coalesce(rejection_reason, ''))) > 0),
    ADD CONSTRAINT requests_question_while_waiting
        CHECK ((status = 'needs_info') = (open_question IS NOT NULL));

CREATE INDEX requests_assignee_idx ON requests (assignee_id);

CREATE TYPE credential_type AS ENUM ('secret', 'certificate');

-- What IST created when it approved an app-registration request.
CREATE TABLE app_registrations_created (
    request_id            bigint PRIMARY KEY REFERENCES requests (id),
    client_id             uuid NOT NULL,
    tenant                text NOT NULL CHECK (length(btrim(tenant)) > 0),
    credential_type       credential_type NOT NULL,
    credential_expires_on date NOT NULL,
    created_by            bigint NOT NULL REFERENCES users (id),
    created_at            timestamptz NOT NULL DEFAULT now()
);

-- The permissions actually granted, which may differ from those requested.
CREATE TABLE granted_permissions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id      bigint NOT NULL REFERENCES app_registrations_created (request_id),
    position        integer NOT NULL CHECK (position >= 0),
    name            text NOT NULL CHECK (length(btrim(name)) > 0),
    permission_type permission_type NOT NULL,
    CONSTRAINT granted_permissions_position_key UNIQUE (request_id, position)
);

ALTER TYPE request_event_kind ADD VALUE 'assigned';
ALTER TYPE request_event_kind ADD VALUE 'unassigned';
-- An internal note, never shown to the requester.
ALTER TYPE request_event_kind ADD VALUE 'note';
-- A reply, shown to the requester.
ALTER TYPE request_event_kind ADD VALUE 'reply';
ALTER TYPE request_event_kind ADD VALUE 'field_changed';

ALTER TABLE request_events
    -- The text of a note, reply, question, answer, rejection reason or advice.
    ADD COLUMN body text,
    ADD COLUMN assignee_id bigint REFERENCES users (id),
    ADD COLUMN field text,
    ADD COLUMN before_value text,
    ADD COLUMN after_value text;

-- The history is append-only: no role may change or remove an event.
CREATE FUNCTION reject_request_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'request_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER request_events_append_only
    BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION reject_request_event_change();

CREATE TRIGGER request_events_no_truncate
    BEFORE TRUNCATE ON request_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_request_event_change();
