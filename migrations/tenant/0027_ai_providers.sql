-- AI providers a tenant configured (docs/ai.md, Providers): public settings beside the API key,
-- sealed with the platform key under the tenant's id and never returned. `features` lists what
-- the provider serves (chat, moderation, embeddings); a feature no row claims uses `local`.
CREATE TABLE ai_providers (
  provider TEXT PRIMARY KEY CHECK (provider IN ('openai-compatible', 'workers-ai')),
  features TEXT NOT NULL DEFAULT '[]',
  settings TEXT NOT NULL DEFAULT '{}',
  sealed TEXT,
  updated_at INTEGER NOT NULL
) STRICT;
