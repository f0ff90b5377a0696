-- Reference numbers restart at 1 for each kind and year (IST-AR-2026-000001,
-- IST-EX-2026-000001). The counter row is updated inside the submitting
-- transaction, so a submit that fails or rolls back leaves no gap.
CREATE TABLE request_reference_counters (
    kind        request_kind NOT NULL,
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last_number integer NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (kind, year)
);

-- The id no longer feeds the reference, so the database alone assigns it.
ALTER TABLE requests ALTER COLUMN id SET GENERATED ALWAYS;
