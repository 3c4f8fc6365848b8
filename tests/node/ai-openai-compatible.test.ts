/**
 * The `openai-compatible` provider (src/lib/ai/openai-compatible.ts) against the OpenAI fake
 * (tests/setup/openai-fake.ts), whose wire shape the official package vouches for in
 * openai-fake.test.ts. Each test scripts the fake through its own key, so they never share state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAiCompatibleProvider } from "../../src/lib/ai/openai-compatible";
import {
  type AiProvider,
  type ChatChunk,
  type ChatRequest,
  EMBEDDING_DIMENSIONS,
  ProviderError,
} from "../../src/lib/ai/provider";
import { startOpenAiFake } from "../setup/openai-fake";

let fake: { url: string; close(): Promise<void> };

beforeAll(async () => {
  fake = await startOpenAiFake();
});
afterAll(() => fake.close());

const keyFor = (script: string) => `${crypto.randomUUID()}.${script}`;
const providerFor = (key: string): AiProvider =>
  // The trailing slash is the kind of thing an admin pastes; the provider ignores it.
  openAiCompatibleProvider({ baseUrl: `${fake.url}/v1/`, apiKey: key, model: "gpt-fake" });

async function callsOf(key: string): Promise<{ count: number; closedEarly: number }> {
  const res = await fetch(`${fake.url}/__calls/${encodeURIComponent(key)}`);
  return (await res.json()) as { count: number; closedEarly: number };
}

const question = (content: string, maxOutputTokens = 512): ChatRequest => ({
  system: "Answer from the passages.",
  messages: [{ role: "user", content }],
  sources: [],
  maxOutputTokens,
});

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

const signal = () => new AbortController().signal;

describe("openai-compatible chat", () => {
  it("streams deltas that concatenate to the answer, then the usage, last", async () => {
    const chunks = await collect(providerFor(keyFor("ok")).chat(question("how do refunds work"), signal()));
    const text = chunks.map((c) => ("delta" in c ? c.delta : "")).join("");
    expect(text).toBe("You asked: how do refunds work");
    expect(chunks.filter((c) => "delta" in c).length).toBeGreaterThan(1);
    // System prompt (4 words) + question (4 words) in; 6 words out, as the fake counts.
    expect(chunks.at(-1)).toEqual({ usage: { inputTokens: 8, outputTokens: 6 } });
  });

  it("sends max_tokens: the answer stops at the cap", async () => {
    const chunks = await collect(providerFor(keyFor("ok")).chat(question("one two three four", 3), signal()));
    expect(chunks.map((c) => ("delta" in c ? c.delta : "")).join("")).toBe("You asked: one");
    expect(chunks.at(-1)).toEqual({ usage: { inputTokens: 8, outputTokens: 3 } });
  });

  it("an abort mid-stream stops the iteration and the fake sees the connection close", async () => {
    const key = keyFor("trickle:100");
    const controller = new AbortController();
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const c of providerFor(key).chat(question("a b c d e f g h"), controller.signal)) {
          if ("delta" in c) seen.push(c.delta);
          if (seen.length === 2) controller.abort();
        }
      })(),
    );
    expect(err).toBe(controller.signal.reason);
    expect(seen).toHaveLength(2);
    await expect.poll(async () => (await callsOf(key)).closedEarly).toBe(1);
  });

  it("a consumer that stops reading early also closes the connection", async () => {
    const key = keyFor("trickle:100");
    for await (const c of providerFor(key).chat(question("a b c d e f g h"), signal())) {
      if ("delta" in c) break;
    }
    await expect.poll(async () => (await callsOf(key)).closedEarly).toBe(1);
  });

  it("a stream dropped after two chunks is a transient ProviderError, after the two deltas", async () => {
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const c of providerFor(keyFor("drop-after:2")).chat(question("a b c d"), signal())) {
          if ("delta" in c) seen.push(c.delta);
        }
      })(),
    );
    expect(seen.join("")).toBe("You asked:");
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ transient: true });
  });

  it("a 401 is not transient and carries the status; it is asked once", async () => {
    const key = keyFor("status:401");
    const err = await failure(collect(providerFor(key).chat(question("hi"), signal())));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ transient: false, status: 401 });
    expect((err as Error).message).toContain("failed on purpose");
    expect((await callsOf(key)).count).toBe(1);
  });

  it("a 503 is transient (the provider does not retry: the resilience layer does), the next call succeeds", async () => {
    const provider = providerFor(keyFor("fail:1:503"));
    const err = await failure(collect(provider.chat(question("hi"), signal())));
    expect(err).toMatchObject({ name: "ProviderError", transient: true, status: 503 });
    const chunks = await collect(provider.chat(question("hi"), signal()));
    expect(chunks.map((c) => ("delta" in c ? c.delta : "")).join("")).toBe("You asked: hi");
  });

  it("429 is transient too; a refused connection is transient without a status", async () => {
    const err = await failure(collect(providerFor(keyFor("status:429")).chat(question("hi"), signal())));
    expect(err).toMatchObject({ transient: true, status: 429 });
    const nowhere = openAiCompatibleProvider({ baseUrl: "http://127.0.0.1:1", apiKey: "k", model: "m" });
    const refused = await failure(collect(nowhere.chat(question("hi"), signal())));
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused).toMatchObject({ transient: true, status: undefined });
  });

  it("a slow answer against AbortSignal.timeout ends with the timeout's own error", async () => {
    const started = Date.now();
    const err = await failure(collect(providerFor(keyFor("slow:2000")).chat(question("hi"), AbortSignal.timeout(100))));
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("a hanging server is left by the caller's abort too", async () => {
    const err = await failure(collect(providerFor(keyFor("hang")).chat(question("hi"), AbortSignal.timeout(100))));
    expect((err as DOMException).name).toBe("TimeoutError");
  });
});

describe("openai-compatible moderation", () => {
  it("reads the scores of the JSON object the model answers", async () => {
    const scores = await providerFor(keyFor("scores:hate=0.95,spam=0.25")).moderate("some text", signal());
    expect(scores).toEqual({
      categories: { spam: 0.25, harassment: 0, hate: 0.95, violence: 0, sexual: 0, self_harm: 0 },
    });
  });

  it("an answer cut before the object closes is transient (the model's flakiness, worth a retry)", async () => {
    const provider = openAiCompatibleProvider({
      baseUrl: `${fake.url}/v1`,
      apiKey: keyFor("ok"),
      model: "m",
      // The fake answers the object in one token: a cap of 0 tokens leaves an empty answer.
      fetch: (input, init) => {
        const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
        return fetch(input, { ...init, body: JSON.stringify({ ...body, max_tokens: 0 }) });
      },
    });
    const err = await failure(provider.moderate("text", signal()));
    expect(err).toMatchObject({ name: "ProviderError", transient: true });
  });
});

describe("openai-compatible embeddings", () => {
  it("one unit vector of 384 dimensions per text, in order, deterministic", async () => {
    const provider = providerFor(keyFor("ok"));
    const [a, b, a2] = await provider.embed(["alpha", "beta", "alpha"], signal());
    expect(a).toBeInstanceOf(Float32Array);
    expect(a).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(Math.hypot(...(a ?? []))).toBeCloseTo(1, 5);
    expect(a2).toEqual(a);
    expect(b).not.toEqual(a);
    expect(await provider.embed([], signal())).toEqual([]);
  });

  it("a model that ignores dimensions is refused as configuration, not retried", async () => {
    const provider = openAiCompatibleProvider({
      baseUrl: fake.url + "/v1",
      apiKey: keyFor("ok"),
      model: "m",
      fetch: (input, init) => {
        const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
        return fetch(input, { ...init, body: JSON.stringify({ ...body, dimensions: 1536 }) });
      },
    });
    const err = await failure(provider.embed(["alpha"], signal()));
    expect(err).toMatchObject({ name: "ProviderError", transient: false });
    expect((err as Error).message).toContain("1536 dimensions");
  });
});
