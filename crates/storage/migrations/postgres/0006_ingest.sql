-- The HJ 212 receiver's additions to the monitoring tables (0005). See docs/MONITORING.md.

-- What the receiver refused from a known device, so that a faulty device is visible by name:
-- packets rejected (a deviation the device is not allowed, out of service, no valid DataTime)
-- and the latest reason.
ALTER TABLE device_status ADD COLUMN rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE device_status ADD COLUMN last_rejection TEXT;
ALTER TABLE device_status ADD COLUMN last_rejected_at TEXT;

-- Packets kept for an unknown MN now, and packets not kept (the cap was reached, or the MN was
-- discarded): the cap is checked against `kept` without counting rows.
ALTER TABLE quarantine_mns ADD COLUMN kept BIGINT NOT NULL DEFAULT 0;
ALTER TABLE quarantine_mns ADD COLUMN dropped BIGINT NOT NULL DEFAULT 0;

-- What the receiver read from a kept packet, so that assigning the MN replays it into
-- monitoring_data without parsing again. `cp` is NULL for a packet that is not stored data
-- (another command, or real-time data while real-time storage is off). `split` marks a piece of
-- a split message (PNUM > 1), whose data area is merged with the other pieces' on replay.
ALTER TABLE quarantine_packets ADD COLUMN kind BIGINT;
ALTER TABLE quarantine_packets ADD COLUMN data_time BIGINT;
ALTER TABLE quarantine_packets ADD COLUMN qn TEXT NOT NULL DEFAULT '';
ALTER TABLE quarantine_packets ADD COLUMN cp TEXT;
ALTER TABLE quarantine_packets ADD COLUMN split BOOLEAN NOT NULL DEFAULT FALSE;

-- (SQLite rebuilds monitoring_data as a rowid table here; a PostgreSQL table is a heap with a
-- separate primary key index already.)
