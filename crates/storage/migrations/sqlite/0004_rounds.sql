-- The audit round, online end to end: the round and its timeline, its deadlines and the
-- notices they send, the disclosure with trade-secret claims, the start filing, the seven
-- phases, the options with expected and verified values, the documents stored by content hash,
-- the reviews with the panel's score sheets, enforcement, and park pilot audits.

-- One round of one listed enterprise. The city and organizer are fixed when the round is
-- created from the published list; the state moves only through the core round machine.
CREATE TABLE rounds (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    list_id INTEGER NOT NULL REFERENCES published_lists (id),
    list_year INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    toxic_categories TEXT NOT NULL,
    track TEXT NOT NULL CHECK (track IN ('standard', 'small_micro')),
    organizer_code TEXT NOT NULL REFERENCES jurisdictions (code),
    state TEXT NOT NULL CHECK (state IN ('listed', 'disclosed', 'started', 'report_submitted',
        'assessment_scheduled', 'rectifying', 'assessed', 'acceptance_applied',
        'acceptance_scheduled', 'accepted', 'closed', 'cancelled')),
    state_since TEXT NOT NULL,
    -- The start filing: audit mode, the consultancy engaged for the round, the audit team and
    -- work plan, and for a self-audit the Art. 15 capability evidence (JSON).
    audit_mode TEXT CHECK (audit_mode IN ('self', 'consultancy')),
    consultancy_id INTEGER REFERENCES consultancies (id),
    start_filing_json TEXT,
    listed_on TEXT NOT NULL,
    rule_book_version TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    UNIQUE (enterprise_id, list_id)
);
CREATE INDEX rounds_by_city ON rounds (jurisdiction_code, state);
CREATE INDEX rounds_by_enterprise ON rounds (enterprise_id);
CREATE INDEX rounds_by_consultancy ON rounds (consultancy_id);

-- The round's timeline: every transition (from_state and to_state set) and every other step
-- (a phase dated, a document uploaded, an option changed, an enforcement decision), with the
-- actor, the reason and the attached documents (JSON list of document ids).
CREATE TABLE round_events (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    detail_json TEXT NOT NULL DEFAULT '{}',
    attachments_json TEXT NOT NULL DEFAULT '[]',
    at TEXT NOT NULL
);
CREATE INDEX round_events_by_round ON round_events (round_id, id);

-- Every deadline of a round with its rule and both last days. A rectify deadline can run more
-- than once (seq). met_on: the day the meeting action was taken; closed_reason: the deadline
-- stopped without being met (round cancelled, review failed).
CREATE TABLE round_deadlines (
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    kind TEXT NOT NULL CHECK (kind IN ('disclose', 'start', 'report', 'rectify', 'accept')),
    seq INTEGER NOT NULL,
    starts_on TEXT NOT NULL,
    nominal_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_book_version TEXT NOT NULL,
    rule_json TEXT NOT NULL,
    trace_zh TEXT NOT NULL,
    trace_en TEXT NOT NULL,
    met_on TEXT,
    closed_reason TEXT,
    PRIMARY KEY (round_id, kind, seq)
);
CREATE INDEX round_deadlines_by_due ON round_deadlines (due_on);

-- Reminders, overdue notices and escalations: one row per deadline and kind, so the
-- scheduler fires each exactly once.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    deadline_kind TEXT NOT NULL,
    deadline_seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reminder', 'overdue', 'escalation')),
    due_on TEXT NOT NULL,
    fired_on TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    UNIQUE (round_id, deadline_kind, deadline_seq, kind)
);
CREATE INDEX notices_by_round ON notices (round_id);
CREATE INDEX notices_by_fired ON notices (fired_on);

CREATE TABLE notice_reads (
    notice_id INTEGER NOT NULL REFERENCES notices (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    read_at TEXT NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);

-- The Art. 11 disclosure: the items by key (JSON object), where and when it was published.
-- Saved drafts keep their versions; the published version is the one with published_on.
CREATE TABLE disclosures (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    version INTEGER NOT NULL,
    items_json TEXT NOT NULL,
    channel TEXT NOT NULL,
    channel_detail TEXT NOT NULL,
    published_on TEXT,
    saved_at TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    UNIQUE (round_id, version)
);

-- Items the enterprise withholds as trade secrets (商业秘密, 促进法 Art. 27(4)); the city may
-- reject an unjustified claim, and the item is then published.
CREATE TABLE secret_claims (
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    item_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('claimed', 'rejected')),
    claimed_at TEXT NOT NULL,
    claimed_by TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    decision_reason TEXT,
    PRIMARY KEY (round_id, item_key)
);

CREATE TABLE round_phases (
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    phase INTEGER NOT NULL CHECK (phase BETWEEN 1 AND 7),
    started_on TEXT,
    completed_on TEXT,
    summary TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (round_id, phase)
);

-- File contents, stored once by SHA-256 whatever the number of documents naming them.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- A round's documents; a new upload of a kind is the next version, never an overwrite.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    note TEXT NOT NULL DEFAULT '',
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    -- The consultancy whose user uploaded it, when one did (sanctions refuse its filings).
    prepared_by_consultancy INTEGER REFERENCES consultancies (id),
    UNIQUE (round_id, kind, version)
);
CREATE INDEX documents_by_hash ON documents (sha256);

-- 清洁生产方案. Money in 万元, as audit reports state it.
CREATE TABLE options (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    cost_class TEXT NOT NULL CHECK (cost_class IN ('no_low', 'medium_high')),
    description TEXT NOT NULL,
    investment_10k_yuan REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'selected', 'implemented', 'dropped')),
    status_note TEXT NOT NULL DEFAULT '',
    implemented_on TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (round_id, code)
);

-- Reductions and benefits of an option: expected (audit report, at assessment) and verified
-- (at acceptance, from before/after monitoring) kept apart.
CREATE TABLE option_values (
    option_id INTEGER NOT NULL REFERENCES options (id),
    stage TEXT NOT NULL CHECK (stage IN ('expected', 'verified')),
    indicator TEXT NOT NULL,
    quantity REAL NOT NULL,
    unit TEXT NOT NULL,
    basis TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (option_id, stage, indicator)
);

-- 评估 / 验收 / combined reviews, scheduled with a drawn panel and decided by the organizer.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    kind TEXT NOT NULL CHECK (kind IN ('assessment', 'acceptance', 'combined')),
    draw_id INTEGER NOT NULL REFERENCES draws (id),
    meeting_on TEXT NOT NULL,
    place TEXT NOT NULL,
    scoring_form TEXT NOT NULL,
    scheduled_by TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    proposed_conclusion TEXT,
    conclusion TEXT CHECK (conclusion IN ('pass', 'rectify', 'fail', 'qualified', 'not_qualified')),
    score REAL,
    reasons TEXT,
    decided_on TEXT,
    decided_by TEXT,
    decided_at TEXT,
    opinion_number TEXT
);
CREATE INDEX reviews_by_round ON reviews (round_id);

CREATE TABLE review_scores (
    review_id INTEGER NOT NULL REFERENCES reviews (id),
    expert_id INTEGER NOT NULL REFERENCES experts (id),
    items_json TEXT NOT NULL,
    vetoes_json TEXT NOT NULL,
    total REAL NOT NULL,
    opinion TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (review_id, expert_id)
);

-- 责令限期改正, fines and 通报批评 on a round; a fine follows an order whose date has passed.
CREATE TABLE enforcement_actions (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    kind TEXT NOT NULL CHECK (kind IN ('order_to_correct', 'fine', 'public_criticism')),
    basis TEXT NOT NULL,
    follows INTEGER REFERENCES enforcement_actions (id),
    reason TEXT NOT NULL,
    document_number TEXT NOT NULL DEFAULT '',
    decided_on TEXT NOT NULL,
    correct_by TEXT,
    amount_yuan INTEGER,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    outcome TEXT CHECK (outcome IN ('corrected', 'not_corrected')),
    outcome_on TEXT,
    rule_json TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX enforcement_by_round ON enforcement_actions (round_id);

-- 工业园区整体审核 pilots: targets and measures, centralized wastewater treatment; when
-- assessed, parks.pilot_passed_on is set and the members count as audited.
CREATE TABLE park_audits (
    id INTEGER PRIMARY KEY,
    park_id INTEGER NOT NULL REFERENCES parks (id),
    title TEXT NOT NULL,
    started_on TEXT NOT NULL,
    targets_json TEXT NOT NULL,
    measures TEXT NOT NULL,
    wastewater_status TEXT NOT NULL,
    wastewater_compliant BOOLEAN NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('under_way', 'assessed', 'failed')),
    assessed_on TEXT,
    assessment_note TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX park_audits_by_park ON park_audits (park_id);

-- The round a draw is for, so a drawn expert who accepted sees that round's documents.
ALTER TABLE draws ADD COLUMN round_id INTEGER REFERENCES rounds (id);
CREATE INDEX draws_by_round ON draws (round_id);
