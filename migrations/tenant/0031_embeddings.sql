-- Vectors (docs/ai.md, "Vectors"): 384-dimension unit embeddings of published posts and of the
-- knowledge base's articles, written by the AI service when the tenant has embeddings on, and
-- searched with libSQL's vector index (`vector_top_k`).
--
-- Not STRICT: STRICT tables refuse the F32_BLOB type name. `model` names the model that made a
-- vector: queries compare only vectors of the model in use, so a model change never mixes
-- spaces (the old rows are replaced as posts and articles are embedded again). `source_at` is
-- the source's updated_at when it was embedded: an older one is stale. Delete rows with a WHERE
-- only: a bare DELETE truncates past the vector index (src/db/tenant/embeddings.ts).
CREATE TABLE post_embeddings (
  id INTEGER PRIMARY KEY,
  post_id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  source_at INTEGER NOT NULL,
  embedding F32_BLOB(384) NOT NULL
);
CREATE INDEX post_embeddings_vec ON post_embeddings (libsql_vector_idx(embedding, 'metric=cosine'));

CREATE TABLE kb_embeddings (
  id INTEGER PRIMARY KEY,
  article_id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  source_at INTEGER NOT NULL,
  embedding F32_BLOB(384) NOT NULL
);
CREATE INDEX kb_embeddings_vec ON kb_embeddings (libsql_vector_idx(embedding, 'metric=cosine'));
