-- Foundation: reference data, the enterprise registry, accounts, sessions and the audit trail.
-- Kept in lockstep with ../postgres/0001_foundation.sql (a test compares the version lists).
-- Timestamps are UTC RFC 3339 text with microseconds, identical on both databases.

CREATE TABLE jurisdictions (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'city')),
    parent_code TEXT REFERENCES jurisdictions (code)
);

CREATE TABLE key_industries (
    id TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE province_industries (
    id TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE industries (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    key_industry_id TEXT REFERENCES key_industries (id),
    province_industry_id TEXT REFERENCES province_industries (id)
);

CREATE TABLE enterprises (
    id INTEGER PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    address TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    industry_code TEXT NOT NULL REFERENCES industries (code),
    size_class TEXT NOT NULL CHECK (size_class IN ('large', 'medium', 'small', 'micro')),
    key_emission_unit BOOLEAN NOT NULL,
    permit_number TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    search_text TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- search_text rides along in the name indexes so that a name search within a city (or the
-- province) walks the index alone, in name order, without reading the table's rows.
CREATE INDEX enterprises_by_city_name ON enterprises (jurisdiction_code, name, id, search_text);
CREATE INDEX enterprises_by_industry ON enterprises (industry_code);
CREATE INDEX enterprises_by_name ON enterprises (name, id, search_text);

-- Every one- and two-character piece of each (case-folded) name: a one- or two-character
-- Chinese query is one lookup here instead of a scan (see cpaudit_core::search).
CREATE TABLE enterprise_name_grams (
    gram TEXT NOT NULL,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    PRIMARY KEY (gram, enterprise_id)
) WITHOUT ROWID;

CREATE TABLE outlets (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL CHECK (kind IN ('air', 'water')),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (enterprise_id, code)
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    outlet_id INTEGER NOT NULL REFERENCES outlets (id),
    mn TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE INDEX devices_by_outlet ON devices (outlet_id);

CREATE TABLE parks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code)
);

CREATE TABLE park_members (
    park_id INTEGER NOT NULL REFERENCES parks (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    PRIMARY KEY (park_id, enterprise_id)
);
CREATE INDEX park_members_by_enterprise ON park_members (enterprise_id);

CREATE TABLE consultancies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    contact TEXT NOT NULL
);

CREATE TABLE engagements (
    consultancy_id INTEGER NOT NULL REFERENCES consultancies (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    since TEXT NOT NULL,
    PRIMARY KEY (consultancy_id, enterprise_id)
);
CREATE INDEX engagements_by_enterprise ON engagements (enterprise_id);

CREATE TABLE experts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    employer TEXT NOT NULL,
    specialties TEXT NOT NULL DEFAULT '[]',
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    id_number_masked TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('province', 'city', 'enterprise', 'consultancy', 'expert')),
    jurisdiction_code TEXT REFERENCES jurisdictions (code),
    enterprise_id INTEGER REFERENCES enterprises (id),
    consultancy_id INTEGER REFERENCES consultancies (id),
    expert_id INTEGER REFERENCES experts (id),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('cookie', 'bearer')),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_by_username ON login_failures (username, at);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT,
    after TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_entity ON audit_log (entity_type, entity_id);

-- An uploaded import waiting for the user's confirmation after the preview. Kept in the
-- database (not in memory) so that several servers behind one PostgreSQL can share it.
CREATE TABLE pending_imports (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    file_name TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
