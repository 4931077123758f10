-- A consultancy's Art. 16 documents (business licence, quality system, instrument lists, staff
-- certificates), stored by content hash in the same blob table as the rounds' documents; the
-- Art. 16 filing names them by that hash.
CREATE TABLE consultancy_documents (
    id INTEGER PRIMARY KEY,
    consultancy_id INTEGER NOT NULL REFERENCES consultancies (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    note TEXT NOT NULL DEFAULT '',
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    UNIQUE (consultancy_id, sha256)
);
