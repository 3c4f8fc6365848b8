-- Full-text search over posts and comments (docs/content.md, "Search"). The FTS columns hold
-- token text made by src/db/tenant/search-tokens.ts (NFKC, case- and accent-folded; Latin words
-- as words, CJK runs as overlapping bigrams), never the original text: snippets are built from
-- the documents' own rows. Contentless (content='') with contentless_delete=1: the text is stored
-- once (in posts/comments), rows are deleted by rowid.
--
-- search_docs names each indexed document (type + id, and the post it belongs to); its doc_key
-- is the rowid of the document's row in search_fts. Written in the same batch or transaction as
-- the post or comment itself.
CREATE TABLE search_docs (
  doc_key INTEGER PRIMARY KEY,
  doc_type TEXT NOT NULL CHECK (doc_type IN ('post', 'comment')),
  doc_id TEXT NOT NULL,
  post_id TEXT NOT NULL,
  indexed_at INTEGER NOT NULL,
  UNIQUE (doc_type, doc_id)
);
CREATE INDEX search_docs_post ON search_docs (post_id);

CREATE VIRTUAL TABLE search_fts USING fts5 (
  title, body, tags, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

-- The index a rebuild fills while queries still read search_fts; swapped in by renaming both in
-- one transaction. Writes go to both while search_state.rebuilding_since is set.
CREATE VIRTUAL TABLE search_fts_next USING fts5 (
  title, body, tags, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE search_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rebuilding_since INTEGER,
  last_rebuild_at INTEGER
);
INSERT INTO search_state (id) VALUES (1);
