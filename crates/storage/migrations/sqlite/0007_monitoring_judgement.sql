-- Online monitoring: the judgement against emission limits and what it computes.
-- See docs/MONITORING.md ("Judgement"). Limits are rule data (rules/emission_limits.toml); these
-- tables hold which limits an outlet is judged by and what the platform computed from the
-- stored packets (monitoring_data, migration 0005).

-- Each outlet is judged by one emission standard and one source class of it (an id of
-- rules/emission_limits.toml), with the special limits (特别排放限值) where the region applies
-- them. Set by the outlet's city or the province, with an audit entry.
CREATE TABLE outlet_standards (
    outlet_id INTEGER PRIMARY KEY REFERENCES outlets (id),
    standard TEXT NOT NULL,
    source_class TEXT NOT NULL,
    special_limits BOOLEAN NOT NULL DEFAULT FALSE,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
);

-- The unit a device sends a factor's concentration in, where it differs from the default of
-- HJ 212-2017 Appendix B (metals in mg/L instead of µg/L, for instance).
CREATE TABLE device_factor_units (
    device_id INTEGER NOT NULL REFERENCES devices (id),
    factor TEXT NOT NULL,
    unit TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (device_id, factor)
);

-- The discharge permit's yearly load limits (许可排放量), per enterprise (outlet_id NULL) or per
-- outlet, pollutant (HJ 212 factor code) and year, in tonnes as permits state them.
CREATE TABLE permit_load_limits (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    outlet_id INTEGER REFERENCES outlets (id),
    pollutant TEXT NOT NULL,
    year INTEGER NOT NULL,
    limit_tonnes REAL NOT NULL CHECK (limit_tonnes > 0),
    permit_ref TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
);
CREATE UNIQUE INDEX permit_load_limits_enterprise ON permit_load_limits (enterprise_id, pollutant, year)
    WHERE outlet_id IS NULL;
CREATE UNIQUE INDEX permit_load_limits_outlet ON permit_load_limits (outlet_id, pollutant, year)
    WHERE outlet_id IS NOT NULL;

-- Per device: the first hour (YYYYMMDDhh0000, China time) not yet evaluated, and the minute
-- interval last seen in its minute data.
CREATE TABLE judgement_watermarks (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id),
    next_hour INTEGER NOT NULL,
    minute_interval INTEGER,
    evaluated_at TEXT NOT NULL
);

-- One row per device, factor and hour (YYYYMMDDhh0000): the platform's mean recomputed from
-- valid minute data beside the device's own hourly value (2061) as sent, which of them was
-- judged (basis), the hour's validity and the exceedance.
-- status: valid | invalid | missing; basis: recomputed | device | none.
-- unit is the unit of mean, platform_value, device_value and value (the limit's unit when the
-- factor has a limit). weight_sum / weighted_sum are the flow (m³) and the flow-weighted amount
-- of the hour's valid water data, from which a day's flow-weighted mean is computed.
CREATE TABLE monitoring_hours (
    device_id INTEGER NOT NULL REFERENCES devices (id),
    factor TEXT NOT NULL,
    hour INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'invalid', 'missing')),
    reason TEXT NOT NULL DEFAULT '',
    basis TEXT NOT NULL CHECK (basis IN ('recomputed', 'device', 'none')),
    valid_count INTEGER NOT NULL DEFAULT 0,
    valid_minutes INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '',
    mean REAL,
    o2 REAL,
    platform_value REAL,
    device_avg REAL,
    device_zs_avg REAL,
    device_flag TEXT,
    device_value REAL,
    value REAL,
    unit TEXT NOT NULL DEFAULT '',
    weight_sum REAL,
    weighted_sum REAL,
    load_kg REAL,
    limit_value REAL,
    limit_id TEXT,
    exceeded BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (device_id, factor, hour)
);
CREATE INDEX monitoring_hours_exceeded ON monitoring_hours (hour, device_id) WHERE exceeded;

-- One row per device, factor and day (YYYYMMDD): the daily mean (air: of the valid hourly
-- values; water: flow-weighted, or arithmetic when no flow data exist, weighting says which),
-- its validity, the day's load and whether the day is an exceedance day.
CREATE TABLE monitoring_days (
    device_id INTEGER NOT NULL REFERENCES devices (id),
    factor TEXT NOT NULL,
    day INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'invalid', 'missing')),
    reason TEXT NOT NULL DEFAULT '',
    basis TEXT NOT NULL CHECK (basis IN ('recomputed', 'device', 'none')),
    valid_hours INTEGER NOT NULL DEFAULT 0,
    weighting TEXT NOT NULL DEFAULT '',
    value REAL,
    device_value REAL,
    unit TEXT NOT NULL DEFAULT '',
    load_kg REAL,
    limit_value REAL,
    limit_id TEXT,
    exceedance_hours INTEGER NOT NULL DEFAULT 0,
    mean_exceeded BOOLEAN NOT NULL DEFAULT FALSE,
    exceeded BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (device_id, factor, day)
);
CREATE INDEX monitoring_days_exceeded ON monitoring_days (day, device_id) WHERE exceeded;

-- Exceedance events: consecutive exceedance hours of one device and factor.
CREATE TABLE monitoring_events (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices (id),
    factor TEXT NOT NULL,
    first_hour INTEGER NOT NULL,
    last_hour INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    max_value REAL NOT NULL,
    limit_value REAL NOT NULL,
    unit TEXT NOT NULL,
    limit_id TEXT NOT NULL,
    UNIQUE (device_id, factor, first_hour)
);
CREATE INDEX monitoring_events_by_last ON monitoring_events (last_hour);

-- Invalid and missing-data periods, kept apart from exceedances: consecutive hours of one
-- device and factor ('' = the whole device sent nothing) with the same reason.
CREATE TABLE monitoring_gaps (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices (id),
    factor TEXT NOT NULL,
    first_hour INTEGER NOT NULL,
    last_hour INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('invalid', 'missing')),
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    UNIQUE (device_id, factor, first_hour)
);
CREATE INDEX monitoring_gaps_by_last ON monitoring_gaps (last_hour);

-- Candidate evidence created from online monitoring: at most one per enterprise, kind,
-- factor and period ('2026-12' for a month, '2026' for a year), so that evaluating again
-- creates nothing new. detail is JSON: the hours or loads, the limit and the rule versions.
CREATE TABLE monitoring_candidates (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL CHECK (kind IN ('concentration_exceedance', 'total_load_exceedance')),
    factor TEXT NOT NULL,
    period TEXT NOT NULL,
    evidence_id INTEGER NOT NULL REFERENCES evidence (id),
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (enterprise_id, kind, factor, period)
);
