-- Vendor documents uploaded with a request, and permission rows that name
-- their API, carry the requester's justification and flag names that no
-- catalogue lists.

CREATE TYPE permission_api AS ENUM ('microsoft_graph', 'exchange_online', 'other');

ALTER TABLE request_scopes
    ADD COLUMN api permission_api NOT NULL DEFAULT 'microsoft_graph',
    -- The API's name as the requester typed it, for 'other'.
    ADD COLUMN api_name text,
    -- True when the name is not in the Graph catalogue or the built-in
    -- Exchange Online list: the requester confirmed it as typed, and a
    -- reviewer checks it by hand.
    ADD COLUMN unlisted boolean NOT NULL DEFAULT false,
    ADD COLUMN justification text,
    ADD CONSTRAINT request_scopes_other_api_named
        CHECK ((api = 'other') = (api_name IS NOT NULL AND length(btrim(api_name)) > 0)),
    ADD CONSTRAINT request_scopes_other_api_unlisted CHECK (api <> 'other' OR unlisted),
    -- Rows stored before justifications existed have none, so only new rows
    -- are checked.
    ADD CONSTRAINT request_scopes_application_justified
        CHECK (permission_type <> 'application' OR length(btrim(coalesce(justification, ''))) > 0) NOT VALID;

-- The permissions IST granted name their API too.
ALTER TABLE granted_permissions
    ADD COLUMN api permission_api NOT NULL DEFAULT 'microsoft_graph',
    ADD COLUMN api_name text,
    ADD CONSTRAINT granted_permissions_other_api_named
        CHECK ((api = 'other') = (api_name IS NOT NULL AND length(btrim(api_name)) > 0));

CREATE TYPE document_type AS ENUM ('pdf', 'docx', 'xlsx', 'pptx', 'odt', 'png', 'jpeg', 'text');

-- A document is uploaded while the form is filled in, before its request
-- exists: until the submit it has no request_id and belongs to the uploader.
CREATE TABLE documents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    bigint REFERENCES requests (id) ON DELETE CASCADE,
    uploaded_by   bigint NOT NULL REFERENCES users (id),
    -- The original name, with path separators, control characters and
    -- direction overrides removed.
    file_name     text NOT NULL CHECK (length(btrim(file_name)) > 0 AND length(file_name) <= 200),
    -- Decided from the content, never from the name or the browser.
    document_type document_type NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    sha256        bytea NOT NULL CHECK (octet_length(sha256) = 32),
    content       bytea NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT documents_size_matches CHECK (octet_length(content) = size_bytes)
);

-- The same file is stored once per request. Pending uploads are checked
-- against the other files of their own form, by the application.
CREATE UNIQUE INDEX documents_request_sha256_key ON documents (request_id, sha256) WHERE request_id IS NOT NULL;
CREATE INDEX documents_pending_idx ON documents (uploaded_by, sha256) WHERE request_id IS NULL;
CREATE INDEX documents_pending_age_idx ON documents (uploaded_at) WHERE request_id IS NULL;

ALTER TYPE request_event_kind ADD VALUE 'document_added';

ALTER TABLE request_events
    ADD COLUMN document_id bigint REFERENCES documents (id);
