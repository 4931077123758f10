-- Evidence, past rounds, the 名单管理库, yearly list plans, published lists, their clocks and
-- the written notifications. Dates are TEXT 'YYYY-MM-DD' in China Standard Time (legal dates);
-- timestamps are TEXT RFC 3339 in UTC, as in 0001.

-- The day an enterprise closed (status 'closed'); the determination needs the date.
ALTER TABLE enterprises ADD COLUMN closed_on TEXT;
-- The day the park's whole-park audit pilot passed evaluation: its members count as audited
-- for the cycle (视同开展一次清洁生产审核).
ALTER TABLE parks ADD COLUMN pilot_passed_on TEXT;

CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('candidate', 'confirmed', 'dismissed')),
    observed_on TEXT NOT NULL,
    source TEXT NOT NULL,
    document_ref TEXT NOT NULL,
    substance TEXT NOT NULL,
    amount REAL NOT NULL,
    limit_value REAL,
    unit TEXT NOT NULL,
    standard TEXT NOT NULL,
    toxic_category INTEGER CHECK (toxic_category BETWEEN 1 AND 5),
    hw_code TEXT NOT NULL,
    summary TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    confirmed_on TEXT,
    decision_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX evidence_by_enterprise ON evidence (enterprise_id, observed_on);
CREATE INDEX evidence_by_status ON evidence (status, enterprise_id);

CREATE TABLE past_rounds (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    list_year INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('audit', 'park_deemed')),
    reasons TEXT NOT NULL,
    accepted_on TEXT,
    source TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    UNIQUE (enterprise_id, list_year, kind)
);

-- 名单管理库: append-only versions. An entry's state on day D is its latest version with
-- valid_from <= D that was recorded by the end of D.
CREATE TABLE library_versions (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    action TEXT NOT NULL CHECK (action IN ('add', 'change', 'remove')),
    reasons TEXT NOT NULL,
    toxic_categories TEXT NOT NULL,
    due_year INTEGER,
    evidence_ids TEXT NOT NULL,
    note TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX library_by_city ON library_versions (jurisdiction_code, enterprise_id, valid_from, id);
CREATE INDEX library_by_enterprise ON library_versions (enterprise_id, valid_from, id);

-- An official's move of a 双有 enterprise to another year of the planning window.
CREATE TABLE plan_moves (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    planned_in INTEGER NOT NULL,
    to_year INTEGER NOT NULL,
    reason TEXT NOT NULL,
    moved_by TEXT NOT NULL,
    moved_at TEXT NOT NULL
);
CREATE INDEX plan_moves_by_city ON plan_moves (jurisdiction_code, enterprise_id, id);

CREATE TABLE list_plans (
    id INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    list_year INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved', 'published')),
    plan_text TEXT NOT NULL,
    schedule_text TEXT NOT NULL,
    deadline TEXT NOT NULL,
    submitted_at TEXT,
    submitted_late BOOLEAN NOT NULL DEFAULT FALSE,
    review_comment TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (jurisdiction_code, list_year)
);

CREATE TABLE list_plan_entries (
    plan_id INTEGER NOT NULL REFERENCES list_plans (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    reasons TEXT NOT NULL,
    toxic_categories TEXT NOT NULL,
    due_year INTEGER,
    placement TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, enterprise_id)
);

CREATE TABLE published_lists (
    id INTEGER PRIMARY KEY,
    list_year INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('main', 'supplementary')),
    version INTEGER NOT NULL,
    supersedes INTEGER REFERENCES published_lists (id),
    superseded_by INTEGER REFERENCES published_lists (id),
    correction_reason TEXT,
    title TEXT NOT NULL,
    document_number TEXT NOT NULL,
    published_on TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    UNIQUE (list_year, batch, version)
);

CREATE TABLE published_entries (
    list_id INTEGER NOT NULL REFERENCES published_lists (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    credit_code TEXT NOT NULL,
    name TEXT NOT NULL,
    industry_code TEXT NOT NULL,
    reasons TEXT NOT NULL,
    toxic_categories TEXT NOT NULL,
    due_year INTEGER,
    clocks_from TEXT NOT NULL,
    PRIMARY KEY (list_id, enterprise_id)
);
CREATE INDEX published_entries_by_enterprise ON published_entries (enterprise_id);
CREATE INDEX published_entries_by_city ON published_entries (list_id, jurisdiction_code);

-- The legal clocks publication started, with the rule and calendar that produced each.
CREATE TABLE clocks (
    list_id INTEGER NOT NULL REFERENCES published_lists (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL CHECK (kind IN ('disclose', 'start', 'report')),
    starts_on TEXT NOT NULL,
    nominal_on TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_book_version TEXT NOT NULL,
    rule_json TEXT NOT NULL,
    calendar_version TEXT NOT NULL,
    uncovered_years TEXT NOT NULL,
    trace_zh TEXT NOT NULL,
    trace_en TEXT NOT NULL,
    PRIMARY KEY (list_id, enterprise_id, kind)
);
CREATE INDEX clocks_by_enterprise ON clocks (enterprise_id);

CREATE TABLE notification_letters (
    id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL REFERENCES published_lists (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    number TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    delivered_on TEXT,
    delivery_method TEXT,
    delivery_note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (list_id, enterprise_id)
);
