-- Queue search, sorting by last update, and the clock behind the review target.

-- Trigram indexes make substring search (part of a reference, a name or an
-- address) fast without a full scan.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE requests
    ADD COLUMN search_text text GENERATED ALWAYS AS (
        lower(reference || ' ' || application_name || ' ' || coalesce(vendor, '') || ' '
              || requester_name || ' ' || requester_email || ' ' || coalesce(sending_address, ''))
    ) STORED,
    -- When the request last started waiting on IST: submission, a reviewer's
    -- action, or the requester's answer. Time waiting on the requester is
    -- therefore never counted against the review target.
    ADD COLUMN review_clock_started_at timestamptz;

UPDATE requests SET review_clock_started_at = created_at;

ALTER TABLE requests
    ALTER COLUMN review_clock_started_at SET DEFAULT now(),
    ALTER COLUMN review_clock_started_at SET NOT NULL;

CREATE INDEX requests_search_idx ON requests USING gin (search_text gin_trgm_ops);
CREATE INDEX requests_updated_idx ON requests (updated_at DESC, id DESC);
CREATE INDEX requests_status_created_idx ON requests (status, created_at DESC, id DESC);
