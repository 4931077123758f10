-- The expert pool with its life cycle, employment history and declared conflicts; panel draws
-- with their published records and the experts' answers; the consultancies' Art. 16 evidence,
-- sanctions and engagements over time.

ALTER TABLE experts ADD COLUMN status TEXT NOT NULL DEFAULT 'admitted'
    CHECK (status IN ('applied', 'admitted', 'suspended', 'removed'));
ALTER TABLE experts ADD COLUMN title_level TEXT NOT NULL DEFAULT 'senior';
ALTER TABLE experts ADD COLUMN years_experience INTEGER NOT NULL DEFAULT 0;
ALTER TABLE experts ADD COLUMN contact TEXT NOT NULL DEFAULT '';
ALTER TABLE experts ADD COLUMN available BOOLEAN NOT NULL DEFAULT TRUE;
-- The number under which the expert appears in published draws before a review is finished.
ALTER TABLE experts ADD COLUMN pool_number INTEGER;
ALTER TABLE experts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX experts_by_pool_number ON experts (pool_number);

CREATE TABLE expert_events (
    id INTEGER PRIMARY KEY,
    expert_id INTEGER NOT NULL REFERENCES experts (id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX expert_events_by_expert ON expert_events (expert_id, id);

-- Where an expert worked: the enterprise or consultancy, from and to (to NULL: still there).
CREATE TABLE expert_employment (
    id INTEGER PRIMARY KEY,
    expert_id INTEGER NOT NULL REFERENCES experts (id),
    enterprise_id INTEGER REFERENCES enterprises (id),
    consultancy_id INTEGER REFERENCES consultancies (id),
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    CHECK ((enterprise_id IS NULL) <> (consultancy_id IS NULL))
);
CREATE INDEX expert_employment_by_expert ON expert_employment (expert_id);

CREATE TABLE conflict_declarations (
    id INTEGER PRIMARY KEY,
    expert_id INTEGER NOT NULL REFERENCES experts (id),
    enterprise_id INTEGER REFERENCES enterprises (id),
    consultancy_id INTEGER REFERENCES consultancies (id),
    reason TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    CHECK ((enterprise_id IS NULL) <> (consultancy_id IS NULL))
);
CREATE INDEX conflict_declarations_by_expert ON conflict_declarations (expert_id);

CREATE TABLE draws (
    id INTEGER PRIMARY KEY,
    review_kind TEXT NOT NULL CHECK (review_kind IN ('assessment', 'acceptance', 'combined')),
    round_ref TEXT NOT NULL,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    organizer_code TEXT NOT NULL REFERENCES jurisdictions (code),
    -- frozen: the pool, the facts the conflict rules read and the review are fixed and
    -- published; drawn: the random sources, published after the freeze, gave the panel.
    stage TEXT NOT NULL CHECK (stage IN ('frozen', 'drawn')),
    inputs_json TEXT NOT NULL,
    frozen_at TEXT NOT NULL,
    record_json TEXT,
    record_hash TEXT,
    finished_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX draws_by_enterprise ON draws (enterprise_id);

CREATE TABLE draw_assignments (
    draw_id INTEGER NOT NULL REFERENCES draws (id),
    expert_id INTEGER NOT NULL REFERENCES experts (id),
    rank INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('panel', 'alternate')),
    response TEXT NOT NULL DEFAULT 'pending' CHECK (response IN ('pending', 'accepted', 'declined')),
    no_conflict_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    decline_reason TEXT,
    responded_at TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    late BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (draw_id, expert_id)
);
CREATE INDEX draw_assignments_by_expert ON draw_assignments (expert_id);

-- 办法 Art. 16 evidence of a consultancy, as of its latest filing (history in the audit log).
CREATE TABLE consultancy_evidence (
    consultancy_id INTEGER PRIMARY KEY REFERENCES consultancies (id),
    evidence_json TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    filed_by TEXT NOT NULL
);

CREATE TABLE sanctions (
    id INTEGER PRIMARY KEY,
    consultancy_id INTEGER NOT NULL REFERENCES consultancies (id),
    kind TEXT NOT NULL CHECK (kind IN ('correction_order', 'blacklist')),
    reason TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    until_corrected BOOLEAN NOT NULL,
    lifted_on TEXT,
    lifted_reason TEXT,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    lifted_by TEXT
);
CREATE INDEX sanctions_by_consultancy ON sanctions (consultancy_id, starts_on);

-- Engagements end; the history stays.
ALTER TABLE engagements ADD COLUMN ended_on TEXT;
