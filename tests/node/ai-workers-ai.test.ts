/**
 * The `workers-ai` provider's protocol handling (src/lib/ai/workers-ai.ts). The `AI` binding
 * exists only on Cloudflare, so a small stand-in answers `run` with the shapes Workers AI
 * documents: for a streamed chat a ReadableStream of SSE bytes (`data: {"response":"…"}` frames, a
 * frame with `usage`, `data: [DONE]`), split at awkward byte boundaries as a network would; for
 * Llama Guard `{ response: { safe, categories } }` or its text verdict; for bge `{ shape, data }`.
 * This tests our parser and mapping, not Canopy's behaviour around it.
 */
import { describe, expect, it } from "vitest";
import { type ChatChunk, EMBEDDING_DIMENSIONS, ProviderError } from "../../src/lib/ai/provider";
import { type AiBinding, llamaGuardVerdict, workersAiProvider } from "../../src/lib/ai/workers-ai";

interface Call {
  model: string;
  inputs: Record<string, unknown>;
  options?: { signal?: AbortSignal };
}

/** A binding whose `run` records its calls and answers what `answer` returns. */
function binding(answer: (call: Call) => unknown): AiBinding & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(model, inputs, options) {
      const call = { model, inputs, options };
      calls.push(call);
      return answer(call);
    },
  };
}

/** SSE bytes cut every `step` bytes (mid-frame, mid-character), as the network delivers them. */
function sseStream(frames: string[], step = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(frames.map((f) => `data: ${f}\n\n`).join(""));
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + step));
      at += step;
    },
  });
}

const request = {
  system: "Be brief.",
  messages: [{ role: "user" as const, content: "¿dónde?" }],
  sources: [],
  maxOutputTokens: 64,
};
const signal = () => new AbortController().signal;

async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const all: ChatChunk[] = [];
  for await (const c of chunks) all.push(c);
  return all;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable("the call succeeded"),
    (e: unknown) => e,
  );
}

const text = (chunks: ChatChunk[]) => chunks.map((c) => ("delta" in c ? c.delta : "")).join("");

describe("workers-ai chat", () => {
  it("runs llama 3.1 streamed with the system prompt first and max_tokens, passing the signal", async () => {
    const ai = binding(() => sseStream([JSON.stringify({ response: "Aquí." }), "[DONE]"]));
    const s = signal();
    await collect(workersAiProvider(ai).chat(request, s));
    expect(ai.calls).toEqual([
      {
        model: "@cf/meta/llama-3.1-8b-instruct",
        inputs: {
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "¿dónde?" },
          ],
          max_tokens: 64,
          stream: true,
        },
        options: { signal: s },
      },
    ]);
  });

  it("response frames split anywhere concatenate, and the usage frame's counts come last", async () => {
    const frames = ["Madrid", " está", " en", " España", " — ñ"].map((r) => JSON.stringify({ response: r }));
    frames.push(JSON.stringify({ response: "", usage: { prompt_tokens: 21, completion_tokens: 5, total_tokens: 26 } }));
    frames.push("[DONE]");
    for (const step of [1, 3, 7, 1000]) {
      const chunks = await collect(workersAiProvider(binding(() => sseStream(frames, step))).chat(request, signal()));
      expect(text(chunks)).toBe("Madrid está en España — ñ");
      expect(chunks.at(-1)).toEqual({ usage: { inputTokens: 21, outputTokens: 5 } });
    }
  });

  it("OpenAI-shaped frames, which some models stream, read the same", async () => {
    const frames = ["Hi", " there"].map((content) => JSON.stringify({ choices: [{ index: 0, delta: { content } }] }));
    const chunks = await collect(
      workersAiProvider(binding(() => sseStream([...frames, "[DONE]"]))).chat(request, signal()),
    );
    expect(chunks).toEqual([{ delta: "Hi" }, { delta: " there" }]);
  });

  it("a stream that ends before [DONE] is a transient ProviderError after what it delivered", async () => {
    const seen: ChatChunk[] = [];
    const err = await failure(
      (async () => {
        const ai = binding(() => sseStream([JSON.stringify({ response: "Half" })]));
        for await (const c of workersAiProvider(ai).chat(request, signal())) seen.push(c);
      })(),
    );
    expect(seen).toEqual([{ delta: "Half" }]);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ transient: true });
  });

  it("a frame that is not JSON, or a failing run, is transient", async () => {
    const malformed = binding(() => sseStream(['{"response": "cut', "[DONE]"]));
    expect(await failure(collect(workersAiProvider(malformed).chat(request, signal())))).toMatchObject({
      name: "ProviderError",
      transient: true,
    });
    const down = binding(() => Promise.reject(new Error("3040: Capacity temporarily exceeded")));
    const err = await failure(collect(workersAiProvider(down).chat(request, signal())));
    expect(err).toMatchObject({ name: "ProviderError", transient: true });
    expect((err as Error).message).toContain("3040");
  });

  it("an abort cancels a stream that would never end, and the caller sees its abort", async () => {
    let cancelled = false;
    const ai = binding(
      () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify({ response: "one" })}\n\n`));
          },
          cancel() {
            cancelled = true;
          },
        }),
    );
    const controller = new AbortController();
    const seen: ChatChunk[] = [];
    const err = await failure(
      (async () => {
        for await (const c of workersAiProvider(ai).chat(request, controller.signal)) {
          seen.push(c);
          setTimeout(() => controller.abort(), 10);
        }
      })(),
    );
    expect(err).toBe(controller.signal.reason);
    expect(seen).toEqual([{ delta: "one" }]);
    expect(cancelled).toBe(true);
  });
});

describe("workers-ai moderation (Llama Guard 3)", () => {
  it("asks llama-guard for a JSON verdict and maps its hazards onto our categories as 0/1", async () => {
    const ai = binding(() => ({ response: { safe: false, categories: ["S10", "S1"] } }));
    const scores = await workersAiProvider(ai).moderate("text", signal());
    expect(ai.calls[0]).toMatchObject({
      model: "@cf/meta/llama-guard-3-8b",
      inputs: { messages: [{ role: "user", content: "text" }], response_format: { type: "json_object" } },
    });
    // Spam is not a hazard Llama Guard judges: no score rather than a reassuring 0.
    expect(scores).toEqual({ categories: { violence: 1, sexual: 0, harassment: 0, hate: 1, self_harm: 0 } });
  });

  it("a safe verdict scores every judged category 0; unmapped hazards score nothing", async () => {
    const zeros = { violence: 0, sexual: 0, harassment: 0, hate: 0, self_harm: 0 };
    const safe = binding(() => ({ response: { safe: true, categories: [] } }));
    expect(await workersAiProvider(safe).moderate("hello", signal())).toEqual({ categories: zeros });
    const elections = binding(() => ({ response: { safe: false, categories: ["S13"] } }));
    expect(await workersAiProvider(elections).moderate("vote", signal())).toEqual({ categories: zeros });
  });

  it("reads the native text verdict too, and refuses an answer that is neither (transient)", async () => {
    const textual = binding(() => ({ response: "unsafe\nS11,S12" }));
    expect((await workersAiProvider(textual).moderate("x", signal())).categories).toMatchObject({
      self_harm: 1,
      sexual: 1,
      hate: 0,
    });
    const odd = binding(() => ({ response: "I cannot help with that." }));
    expect(await failure(workersAiProvider(odd).moderate("x", signal()))).toMatchObject({
      name: "ProviderError",
      transient: true,
    });
  });

  it("llamaGuardVerdict takes both shapes and tolerant hazard spellings", () => {
    expect(llamaGuardVerdict("safe")).toEqual({ safe: true, hazards: [] });
    expect(llamaGuardVerdict(" unsafe \n S1, s10 ")).toEqual({ safe: false, hazards: ["S1", "S10"] });
    expect(llamaGuardVerdict({ safe: false, categories: ["S2: Non-Violent Crimes", 4] })).toEqual({
      safe: false,
      hazards: ["S2"],
    });
    expect(llamaGuardVerdict(undefined)).toBeNull();
  });
});

describe("workers-ai embeddings (bge-small)", () => {
  const vector = (seed: number, dims = EMBEDDING_DIMENSIONS) =>
    Array.from({ length: dims }, (_, i) => Math.sin(seed * 31 + i) * 3);

  it("unit vectors of 384 dimensions in order, in batches of at most 100 texts", async () => {
    const ai = binding((call) => {
      const texts = call.inputs.text as string[];
      return { shape: [texts.length, EMBEDDING_DIMENSIONS], data: texts.map((t) => vector(Number(t))) };
    });
    const texts = Array.from({ length: 150 }, (_, i) => String(i));
    const vectors = await workersAiProvider(ai).embed(texts, signal());
    expect(ai.calls.map((c) => [c.model, (c.inputs.text as string[]).length])).toEqual([
      ["@cf/baai/bge-small-en-v1.5", 100],
      ["@cf/baai/bge-small-en-v1.5", 50],
    ]);
    expect(vectors).toHaveLength(150);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const raw = vector(149);
    const norm = Math.hypot(...raw);
    expect(vectors[149]?.[7]).toBeCloseTo((raw[7] ?? 0) / norm, 6);
  });

  it("another dimension count is configuration (not transient); a short answer is transient", async () => {
    const wide = binding(() => ({ shape: [1, 768], data: [vector(1, 768)] }));
    expect(await failure(workersAiProvider(wide).embed(["a"], signal()))).toMatchObject({
      name: "ProviderError",
      transient: false,
    });
    const short = binding(() => ({ shape: [1, 384], data: [vector(1)] }));
    expect(await failure(workersAiProvider(short).embed(["a", "b"], signal()))).toMatchObject({
      name: "ProviderError",
      transient: true,
    });
  });
});
