/**
 * The `workers-ai` provider over the `AI` binding (`env.AI.run(model, inputs, options)`):
 * - chat: `@cf/meta/llama-3.1-8b-instruct` with `stream: true`, which resolves to a ReadableStream
 *   of SSE frames `data: {"response":"<text>"}`, a frame carrying `usage` (`prompt_tokens`,
 *   `completion_tokens`), then `data: [DONE]` (developers.cloudflare.com/workers-ai, "Streaming";
 *   Cloudflare's own workers-ai-provider also reads OpenAI-shaped `choices[0].delta.content`
 *   frames, which some models stream, so both are read here);
 * - moderation: `@cf/meta/llama-guard-3-8b`, whose answer is `{ safe, categories: ["S1", …] }`
 *   with `response_format: json_object` (or the text "safe" / "unsafe\nS1,S10" without it); the
 *   MLCommons hazards S1–S14 map onto our categories as 0/1 (LLAMA_GUARD_CATEGORIES);
 * - embeddings: `@cf/baai/bge-small-en-v1.5`, `{ shape: [n, 384], data: number[][] }`.
 * The binding's failures (capacity, upstream, network) are transient: a bad input would be
 * Canopy's bug, not the tenant's configuration, and the binding carries no key to get wrong.
 */
import {
  type AiProvider,
  type ChatChunk,
  type ChatRequest,
  EMBEDDING_DIMENSIONS,
  type ModerationCategory,
  type ModerationScores,
  ProviderError,
} from "./provider";
import { eventJson, providerFailure, sseData } from "./sse";

/**
 * The part of the `AI` binding this provider calls. The generated Env has no `AI` yet (wrangler.toml
 * declares no `[ai]`), and tests/node type-checks without the Workers types, so the binding is
 * typed by what is used; the runtime's `Ai` satisfies it.
 */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<unknown>;
}

export interface WorkersAiModels {
  chat: string;
  moderation: string;
  embeddings: string;
}

export const WORKERS_AI_MODELS: WorkersAiModels = {
  chat: "@cf/meta/llama-3.1-8b-instruct",
  moderation: "@cf/meta/llama-guard-3-8b",
  embeddings: "@cf/baai/bge-small-en-v1.5",
};

/**
 * Llama Guard 3's hazards (MLCommons taxonomy) onto our categories. S2 non-violent crimes, S6
 * specialized advice, S8 intellectual property, S13 elections and S14 code interpreter abuse have
 * no counterpart and score nothing; spam is not a hazard Llama Guard judges (the word list does).
 */
export const LLAMA_GUARD_CATEGORIES: Readonly<Record<string, ModerationCategory>> = {
  S1: "violence", // violent crimes
  S3: "sexual", // sex-related crimes
  S4: "sexual", // child sexual exploitation
  S5: "harassment", // defamation
  S7: "harassment", // privacy (doxxing)
  S9: "violence", // indiscriminate weapons
  S10: "hate",
  S11: "self_harm",
  S12: "sexual", // sexual content
};

/** The categories Llama Guard judges: each scores 0 unless a hazard maps onto it. */
const JUDGED = [...new Set(Object.values(LLAMA_GUARD_CATEGORIES))];

/** bge-small takes at most 100 texts per call. */
const EMBED_BATCH = 100;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** The provider over the binding; `models` overrides the defaults (a tenant never chooses them). */
export function workersAiProvider(ai: AiBinding, models: Partial<WorkersAiModels> = {}): AiProvider {
  const m = { ...WORKERS_AI_MODELS, ...models };

  async function run(model: string, inputs: Record<string, unknown>, signal: AbortSignal, what: string) {
    try {
      return await ai.run(model, inputs, { signal });
    } catch (err) {
      throw providerFailure(err, signal, what);
    }
  }

  return {
    name: "workers-ai",
    model: m.chat,
    embeddingModel: m.embeddings,
    async *chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<ChatChunk> {
      const stream = await run(
        m.chat,
        {
          messages: [{ role: "system", content: req.system }, ...req.messages],
          max_tokens: req.maxOutputTokens,
          stream: true,
        },
        signal,
        "chat",
      );
      if (!(stream instanceof ReadableStream)) throw new ProviderError("chat answered without a stream", true);
      let usage: { inputTokens: number; outputTokens: number } | undefined;
      try {
        for await (const data of sseData(stream as ReadableStream<Uint8Array>, signal)) {
          const frame = eventJson(data);
          if (!isRecord(frame)) throw new ProviderError("chat streamed a frame that is not an object", true);
          const delta = frameText(frame);
          if (delta) yield { delta };
          if (isRecord(frame.usage)) {
            usage = {
              inputTokens: count(frame.usage.prompt_tokens),
              outputTokens: count(frame.usage.completion_tokens),
            };
          }
        }
      } catch (err) {
        throw providerFailure(err, signal, "chat");
      }
      // Last, as ChatChunk promises: the usage frame may also carry the last text.
      if (usage) yield { usage };
    },

    async moderate(text: string, signal: AbortSignal): Promise<ModerationScores> {
      const out = await run(
        m.moderation,
        { messages: [{ role: "user", content: text }], response_format: { type: "json_object" } },
        signal,
        "moderation",
      );
      const verdict = llamaGuardVerdict(isRecord(out) ? out.response : undefined);
      if (!verdict) throw new ProviderError("moderation answered no verdict", true);
      const categories: ModerationScores["categories"] = Object.fromEntries(JUDGED.map((c) => [c, 0]));
      if (!verdict.safe) {
        for (const hazard of verdict.hazards) {
          const c = LLAMA_GUARD_CATEGORIES[hazard];
          if (c) categories[c] = 1;
        }
      }
      return { categories };
    },

    async embed(texts: string[], signal: AbortSignal): Promise<Float32Array[]> {
      const vectors: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += EMBED_BATCH) {
        const batch = texts.slice(i, i + EMBED_BATCH);
        const out = await run(m.embeddings, { text: batch }, signal, "embeddings");
        const data = isRecord(out) ? out.data : undefined;
        if (!Array.isArray(data) || data.length !== batch.length) {
          throw new ProviderError("embeddings answered something other than one vector per text", true);
        }
        for (const v of data) vectors.push(unitVector(v));
      }
      return vectors;
    },
  };
}

/** A frame's text: Workers AI's own `response`, or an OpenAI-shaped `choices[0].delta.content`. */
function frameText(frame: Record<string, unknown>): string {
  if (typeof frame.response === "string") return frame.response;
  const choice = Array.isArray(frame.choices) ? frame.choices[0] : undefined;
  const delta = isRecord(choice) ? choice.delta : undefined;
  return isRecord(delta) && typeof delta.content === "string" ? delta.content : "";
}

/**
 * Llama Guard's verdict from either answer shape: `{ safe, categories }` (json_object), or its
 * native text, "safe" or "unsafe" and a line of comma-separated hazards. `null` when neither.
 */
export function llamaGuardVerdict(response: unknown): { safe: boolean; hazards: string[] } | null {
  if (isRecord(response) && typeof response.safe === "boolean") {
    const hazards = Array.isArray(response.categories) ? response.categories : [];
    return { safe: response.safe, hazards: hazards.filter((h): h is string => typeof h === "string").map(hazardCode) };
  }
  if (typeof response !== "string") return null;
  const [first, ...rest] = response.trim().split(/\s*\n\s*/);
  if (first === "safe") return { safe: true, hazards: [] };
  if (first !== "unsafe") return null;
  return { safe: false, hazards: rest.join(",").split(",").map(hazardCode).filter(Boolean) };
}

/** "S10", "s10" or "S10: Hate" → "S10". */
function hazardCode(h: string): string {
  const m = /^s(\d{1,2})\b/i.exec(h.trim());
  return m ? `S${m[1]}` : h.trim();
}

/** The vector as a unit-length Float32Array; another length than 384 means another model. */
function unitVector(values: unknown): Float32Array {
  if (!Array.isArray(values) || !values.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw new ProviderError("embeddings answered a vector that is not numbers", true);
  }
  if (values.length !== EMBEDDING_DIMENSIONS) {
    throw new ProviderError(
      `the embedding model answered ${values.length} dimensions, not ${EMBEDDING_DIMENSIONS}`,
      false,
    );
  }
  const norm = Math.hypot(...(values as number[]));
  if (!(norm > 0)) throw new ProviderError("the embedding model answered a zero vector", true);
  return Float32Array.from(values as number[], (x) => x / norm);
}
