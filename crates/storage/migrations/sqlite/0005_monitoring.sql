-- Online monitoring (HJ 212): what the receiver stores. See docs/MONITORING.md.

-- Per-device receiver settings: the tolerance switches the device needs (comma-separated
-- names of cpaudit_hj212 deviations, empty = strict) and whether it is in service.
CREATE TABLE device_settings (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id),
    tolerance TEXT NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The last time each device was heard from; updated by the receiver with each batch.
CREATE TABLE device_status (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id),
    last_seen_at TEXT NOT NULL,
    last_data_time INTEGER,
    protocol_version TEXT NOT NULL DEFAULT '',
    peer TEXT NOT NULL DEFAULT '',
    packets INTEGER NOT NULL DEFAULT 0,
    deviations INTEGER NOT NULL DEFAULT 0
);

-- One row per device, data kind and data time: the CP data area exactly as the device sent it
-- (lossless, unknown codes kept), parsed with cpaudit_hj212::Cp on read. One row per packet
-- instead of one per pollutant keeps ingest at one B-tree insert per packet.
-- kind is the command code: 2011 real-time, 2051 minute, 2061 hourly, 2031 daily.
-- data_time is the packet's DataTime digits as an integer, YYYYMMDDhhmmss, China time.
CREATE TABLE monitoring_data (
    device_id INTEGER NOT NULL REFERENCES devices (id),
    kind INTEGER NOT NULL,
    data_time INTEGER NOT NULL,
    qn TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    cp TEXT NOT NULL,
    PRIMARY KEY (device_id, kind, data_time)
) WITHOUT ROWID;

-- Packets from MNs no device is registered under, kept whole until the province assigns the
-- MN to a device (the packets are then replayed into monitoring_data) or discards them.
CREATE TABLE quarantine_mns (
    mn TEXT PRIMARY KEY,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_peer TEXT NOT NULL DEFAULT '',
    packets INTEGER NOT NULL DEFAULT 0,
    resolution TEXT NOT NULL DEFAULT 'open' CHECK (resolution IN ('open', 'assigned', 'discarded')),
    resolved_by TEXT,
    resolved_at TEXT,
    device_id INTEGER REFERENCES devices (id)
);
CREATE TABLE quarantine_packets (
    id INTEGER PRIMARY KEY,
    mn TEXT NOT NULL REFERENCES quarantine_mns (mn),
    received_at TEXT NOT NULL,
    packet TEXT NOT NULL
);
CREATE INDEX quarantine_packets_by_mn ON quarantine_packets (mn, id);
