-- Late data: a minute (2051) or hourly (2061) packet stored for an hour the judgement has
-- already evaluated, typically a data logger uploading what it buffered while it was offline
-- (补传). Every store of monitoring data (the receiver, quarantine replays, split pieces) notes
-- the earliest such data time per device here, in the transaction that stores it; the
-- judgement job re-evaluates the device from there, so that hours first found missing are
-- judged on the data that came later, exceedances included. Data time: YYYYMMDDhhmmss, China
-- time.
CREATE TABLE judgement_rewinds (
    device_id BIGINT PRIMARY KEY REFERENCES devices (id),
    from_time BIGINT NOT NULL
);
