-- Billing (SPEC R-BIL-1 … R-BIL-4): guarantors' billing accounts with their statement delivery
-- (paper or paperless) and its history, statements with their lines (amounts in cents), and
-- the print queue (paper statements not yet marked printed).
-- Kept in step with ../postgres/0005_billing.sql.

-- A guarantor's account; its statements may list visits at several departments.
CREATE TABLE billing_accounts (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,            -- what people see and quote on the phone
    patient_id      TEXT NOT NULL REFERENCES patients (id),   -- the guarantor
    mailing_address TEXT NOT NULL,                   -- lines separated by newlines
    delivery        TEXT NOT NULL CHECK (delivery IN ('paper', 'paperless')),
    created_at      INTEGER NOT NULL,
    created_by      TEXT REFERENCES users (id)
);
CREATE INDEX billing_accounts_by_patient ON billing_accounts (patient_id);

-- Every change of an account's delivery: by the patient, by staff, or by enrolment (R-BIL-1).
CREATE TABLE delivery_changes (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES billing_accounts (id),
    changed_at    INTEGER NOT NULL,
    changed_by    TEXT REFERENCES users (id),
    cause         TEXT NOT NULL CHECK (cause IN ('opened', 'enrolment', 'patient', 'staff')),
    from_delivery TEXT CHECK (from_delivery IN ('paper', 'paperless')),
    to_delivery   TEXT NOT NULL CHECK (to_delivery IN ('paper', 'paperless'))
);
CREATE INDEX delivery_changes_by_account ON delivery_changes (account_id, changed_at);

-- A statement as posted: totals computed and checked when posted, never changed afterwards
-- (only printed_at/printed_by are set once, for paper statements).
CREATE TABLE statements (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES billing_accounts (id),
    statement_date   TEXT NOT NULL,                  -- YYYY-MM-DD
    period_start     TEXT NOT NULL,
    period_end       TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    previous_balance INTEGER NOT NULL,                -- cents
    charges          INTEGER NOT NULL,
    payments         INTEGER NOT NULL,
    adjustments      INTEGER NOT NULL,
    amount_due       INTEGER NOT NULL,
    delivery         TEXT NOT NULL CHECK (delivery IN ('paper', 'paperless')),
    posted_at        INTEGER NOT NULL,
    posted_by        TEXT REFERENCES users (id),
    printed_at       INTEGER,
    printed_by       TEXT REFERENCES users (id),
    UNIQUE (account_id, statement_date)
);
CREATE INDEX statements_print_queue ON statements (posted_at) WHERE delivery = 'paper' AND printed_at IS NULL;

CREATE TABLE statement_lines (
    statement_id  TEXT NOT NULL REFERENCES statements (id),
    position      INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('charge', 'payment', 'adjustment')),
    line_date     TEXT NOT NULL,
    department    TEXT NOT NULL,
    description   TEXT NOT NULL,
    amount        INTEGER NOT NULL,
    PRIMARY KEY (statement_id, position)
);

-- What a member of billing staff typed into a form that was refused (the statement form, and
-- the reason an import was refused), kept so the page can show it again without putting it in
-- a URL. Replaced by the next attempt; deleted when the form succeeds.
CREATE TABLE billing_drafts (
    user_id     TEXT NOT NULL REFERENCES users (id),
    form        TEXT NOT NULL,                       -- 'statement:<account id>' or 'import'
    fields      TEXT NOT NULL,                       -- JSON
    message     TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, form)
);
