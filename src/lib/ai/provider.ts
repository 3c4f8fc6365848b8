/**
 * The one interface every AI provider speaks (docs/ai.md, Providers): `workers-ai` (the `AI`
 * binding), `openai-compatible` (any `/v1/chat/completions` endpoint) and `local` (deterministic,
 * no network). Canopy's quota gate, breakers and degraded paths sit around it; a provider only
 * talks to its model.
 */
export type ProviderName = "workers-ai" | "openai-compatible" | "local";

/** Moderation categories, shared by every provider (each maps its own labels onto these). */
export const MODERATION_CATEGORIES = ["spam", "harassment", "hate", "violence", "sexual", "self_harm"] as const;
export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** Embedding vectors have this many dimensions everywhere (bge-small, hashing, OpenAI `dimensions`). */
export const EMBEDDING_DIMENSIONS = 384;

export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

/** A retrieved knowledge-base passage the answer must be grounded in. */
export interface ChatSource {
  id: string;
  title: string;
  text: string;
}

export interface ChatRequest {
  /** The system prompt (instructions and the retrieved passages, already rendered). */
  system: string;
  messages: ChatTurn[];
  /** The passages behind `system`: the local provider answers from them; remote ones read `system`. */
  sources: ChatSource[];
  /** Hard cap on output tokens (`max_tokens`): the quota hold minus the prompt. */
  maxOutputTokens: number;
}

/** A streamed chat yields text deltas and, last, the usage when the provider reports one. */
export type ChatChunk = { delta: string } | { usage: { inputTokens: number; outputTokens: number } };

export interface ModerationScores {
  /** Scores in [0, 1] per category the provider judged; a missing category scored 0. */
  categories: Partial<Record<ModerationCategory, number>>;
}

export interface AiProvider {
  readonly name: ProviderName;
  /** The model this provider runs (for audit rows and usage), e.g. `@cf/meta/llama-3.1-8b-instruct`. */
  readonly model: string;
  /** The model behind `embed`: vectors of different models are never compared. */
  readonly embeddingModel: string;
  chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<ChatChunk>;
  moderate(text: string, signal: AbortSignal): Promise<ModerationScores>;
  /** One unit-length vector of EMBEDDING_DIMENSIONS per text. */
  embed(texts: string[], signal: AbortSignal): Promise<Float32Array[]>;
}

/**
 * A provider failure. `transient` failures (timeouts, 5xx, 429, dropped streams) are retried and
 * count towards the breaker; the others (a 4xx such as a bad key) are the tenant's configuration.
 */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}
