-- Files: metadata of objects stored in R2 under t/<tenant id>/files/<file id>. The row is the
-- source of truth for who may see a file; R2 only holds bytes.
CREATE TABLE files (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  name TEXT NOT NULL,
  -- Sniffed from the bytes (src/lib/sniff.ts), never taken from the client. Empty while a
  -- multipart upload has not received its first part.
  content_type TEXT NOT NULL,
  -- Bytes: the actual size when ready, the declared size while uploading.
  size INTEGER NOT NULL,
  r2_key TEXT NOT NULL,
  -- Hex SHA-256 of the bytes, for single uploads (multipart parts arrive in separate requests).
  sha256 TEXT,
  status TEXT NOT NULL CHECK (status IN ('uploading', 'ready', 'deleted')),
  -- R2's multipart upload id and the part size promised to the client, for multipart uploads.
  upload_id TEXT,
  part_size INTEGER,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
-- A user's own files, newest first (ids are time-ordered), optionally by purpose.
CREATE INDEX files_owner ON files (owner_id, status, id);
CREATE INDEX files_owner_purpose ON files (owner_id, purpose, status, id);

-- Parts received for a multipart upload: R2 needs every part's etag to complete it and its
-- binding cannot list parts, so they are recorded as they arrive (a re-sent part replaces).
CREATE TABLE file_parts (
  file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  part_number INTEGER NOT NULL,
  etag TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (file_id, part_number)
);
