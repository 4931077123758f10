-- E-mail for notices, off by default (setting notices.email). When it is on, the scheduler
-- queues every notice it fires here, in the same transaction; an external mailer reads the
-- unsent rows, finds the addresses of the notice's readers in its own directory, sends, and
-- sets sent_at. cpaudit itself speaks no SMTP and keeps no e-mail addresses.
CREATE TABLE notice_outbox (
    notice_id BIGINT PRIMARY KEY REFERENCES notices (id),
    queued_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX notice_outbox_unsent ON notice_outbox (sent_at);
