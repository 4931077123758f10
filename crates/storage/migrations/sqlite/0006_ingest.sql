-- The HJ 212 receiver's additions to the monitoring tables (0005). See docs/MONITORING.md.

-- What the receiver refused from a known device, so that a faulty device is visible by name:
-- packets rejected (a deviation the device is not allowed, out of service, no valid DataTime)
-- and the latest reason.
ALTER TABLE device_status ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device_status ADD COLUMN last_rejection TEXT;
ALTER TABLE device_status ADD COLUMN last_rejected_at TEXT;

-- Packets kept for an unknown MN now, and packets not kept (the cap was reached, or the MN was
-- discarded): the cap is checked against `kept` without counting rows.
ALTER TABLE quarantine_mns ADD COLUMN kept INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quarantine_mns ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;

-- What the receiver read from a kept packet, so that assigning the MN replays it into
-- monitoring_data without parsing again. `cp` is NULL for a packet that is not stored data
-- (another command, or real-time data while real-time storage is off). `split` marks a piece of
-- a split message (PNUM > 1), whose data area is merged with the other pieces' on replay.
ALTER TABLE quarantine_packets ADD COLUMN kind INTEGER;
ALTER TABLE quarantine_packets ADD COLUMN data_time INTEGER;
ALTER TABLE quarantine_packets ADD COLUMN qn TEXT NOT NULL DEFAULT '';
ALTER TABLE quarantine_packets ADD COLUMN cp TEXT;
ALTER TABLE quarantine_packets ADD COLUMN split BOOLEAN NOT NULL DEFAULT FALSE;

-- monitoring_data becomes an ordinary rowid table with the same columns and primary key.
-- WITHOUT ROWID clusters rows by (device, kind, time), which suits rows of a few dozen bytes;
-- a packet's data area is 400-900 bytes, so a 4 KiB page holds a handful of rows, and a batch
-- from a thousand devices touches a thousand leaf pages, each written whole to the WAL at the
-- commit. As a rowid table the rows are appended in arrival order and only the small primary
-- key entries go into the key's B-tree: measured about five times faster for the receiver's
-- batches (docs/MONITORING.md). A device's hour is still one range scan of the key.
CREATE TABLE monitoring_data_rowid (
    device_id INTEGER NOT NULL REFERENCES devices (id),
    kind INTEGER NOT NULL,
    data_time INTEGER NOT NULL,
    qn TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    cp TEXT NOT NULL,
    PRIMARY KEY (device_id, kind, data_time)
);
INSERT INTO monitoring_data_rowid (device_id, kind, data_time, qn, received_at, cp)
    SELECT device_id, kind, data_time, qn, received_at, cp FROM monitoring_data;
DROP TABLE monitoring_data;
ALTER TABLE monitoring_data_rowid RENAME TO monitoring_data;
