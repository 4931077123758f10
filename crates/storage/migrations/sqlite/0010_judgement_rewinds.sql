-- Late data: a minute (2051) or hourly (2061) packet stored for an hour the judgement has
-- already evaluated, typically a data logger uploading what it buffered while it was offline
-- (补传). The judgement job re-evaluates the device from the earliest such data time, so that
-- hours first found missing are judged on the data that came later, exceedances included.
-- One row per device: the earliest late data time (YYYYMMDDhhmmss, China time) not yet taken up.
CREATE TABLE judgement_rewinds (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id),
    from_time INTEGER NOT NULL
);

-- Every path that stores data (the receiver, quarantine replays, split pieces merged into their
-- row) goes through these triggers; a device never evaluated has no watermark and no rewind.
CREATE TRIGGER monitoring_data_late_insert AFTER INSERT ON monitoring_data
WHEN NEW.kind IN (2051, 2061)
    AND NEW.data_time < (SELECT next_hour FROM judgement_watermarks WHERE device_id = NEW.device_id)
BEGIN
    INSERT OR IGNORE INTO judgement_rewinds (device_id, from_time)
        VALUES (NEW.device_id, NEW.data_time);
    UPDATE judgement_rewinds SET from_time = NEW.data_time
        WHERE device_id = NEW.device_id AND from_time > NEW.data_time;
END;

CREATE TRIGGER monitoring_data_late_update AFTER UPDATE OF cp ON monitoring_data
WHEN NEW.kind IN (2051, 2061)
    AND NEW.data_time < (SELECT next_hour FROM judgement_watermarks WHERE device_id = NEW.device_id)
BEGIN
    INSERT OR IGNORE INTO judgement_rewinds (device_id, from_time)
        VALUES (NEW.device_id, NEW.data_time);
    UPDATE judgement_rewinds SET from_time = NEW.data_time
        WHERE device_id = NEW.device_id AND from_time > NEW.data_time;
END;
