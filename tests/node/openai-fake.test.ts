/**
 * The OpenAI fake (tests/setup/openai-fake.ts) speaks the real wire shape: the official `openai`
 * package, which parses OpenAI's answers for a living, is the judge. If the package reads the
 * fake's streams, JSON, embeddings and errors as it reads OpenAI's, the provider tests built on
 * the fake test against the real protocol.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOpenAiFakeKey, startOpenAiFake } from "../setup/openai-fake";

let fake: { url: string; close(): Promise<void> };

beforeAll(async () => {
  fake = await startOpenAiFake();
});
afterAll(() => fake.close());

/** A key of its own per test: `<random prefix>.<script>`. */
const keyFor = (script: string) => `${crypto.randomUUID()}.${script}`;
const clientFor = (key: string, options: { maxRetries?: number } = {}) =>
  new OpenAI({ apiKey: key, baseURL: `${fake.url}/v1`, maxRetries: 0, ...options });

async function callsOf(key: string): Promise<{ count: number; closedEarly: number }> {
  const res = await fetch(`${fake.url}/__calls/${encodeURIComponent(key)}`);
  return (await res.json()) as { count: number; closedEarly: number };
}

describe("the key script", () => {
  it("parses parts joined by + after a dotless prefix, and refuses what it does not know", () => {
    expect(parseOpenAiFakeKey("t1.slow:50+scores:hate=0.95,spam=0.2")).toEqual({
      slowMs: 50,
      trickleMs: 0,
      hang: false,
      scores: { hate: 0.95, spam: 0.2 },
    });
    expect(parseOpenAiFakeKey("scores:hate=0.9")?.scores).toEqual({ hate: 0.9 });
    expect(parseOpenAiFakeKey("fail:2:500")?.fail).toEqual({ n: 2, status: 500 });
    expect(parseOpenAiFakeKey("sk-live-123")).toBeNull();
    expect(parseOpenAiFakeKey("t1.slow")).toBeNull();
    expect(parseOpenAiFakeKey("t1.scores:nudity=1")).toBeNull();
    expect(parseOpenAiFakeKey("t1.status:200")).toBeNull();
  });
});

describe("the openai package reads the fake as it reads OpenAI", () => {
  it("a streamed chat with include_usage iterates to the end: role, deltas, finish, usage", async () => {
    const client = clientFor(keyFor("ok"));
    const stream = await client.chat.completions.create({
      model: "gpt-fake",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "where is the moon" },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let roles = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      const choice = chunk.choices[0];
      if (choice) {
        text += choice.delta.content ?? "";
        if (choice.delta.role === "assistant") roles++;
        finishes.push(choice.finish_reason);
      } else usage = chunk.usage;
    }
    expect(text).toBe("You asked: where is the moon");
    expect(roles).toBe(1);
    expect(finishes.at(-1)).toBe("stop");
    expect(usage).toEqual({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 });
  });

  it("the package's own `stream()` runner accumulates the same message", async () => {
    const client = clientFor(keyFor("ok"));
    const runner = client.chat.completions.stream({
      model: "gpt-fake",
      messages: [{ role: "user", content: "hello there" }],
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("You asked: hello there");
    expect(final.usage?.completion_tokens).toBe(4);
  });

  it("a non-streamed chat honours max_tokens and says why it stopped", async () => {
    const client = clientFor(keyFor("ok"));
    const done = await client.chat.completions.create({
      model: "gpt-fake",
      messages: [{ role: "user", content: "one two three four" }],
      max_tokens: 3,
    });
    expect(done.object).toBe("chat.completion");
    expect(done.choices[0]?.message).toMatchObject({ role: "assistant", content: "You asked: one" });
    expect(done.choices[0]?.finish_reason).toBe("length");
    expect(done.usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
  });

  it("json_object answers the moderation object scored by the key", async () => {
    const client = clientFor(keyFor("scores:hate=0.95,spam=0.1"));
    const done = await client.chat.completions.create({
      model: "gpt-fake",
      messages: [{ role: "user", content: "text to judge" }],
      response_format: { type: "json_object" },
    });
    expect(JSON.parse(done.choices[0]?.message.content ?? "")).toEqual({
      categories: { spam: 0.1, harassment: 0, hate: 0.95, violence: 0, sexual: 0, self_harm: 0 },
    });
  });

  it("embeddings: one deterministic unit vector per input, of the asked dimensions, base64 or floats", async () => {
    const client = clientFor(keyFor("ok"));
    const b64 = await client.embeddings.create({ model: "e", input: ["alpha", "beta"], dimensions: 384 });
    expect(b64.data.map((d) => d.index)).toEqual([0, 1]);
    expect(b64.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    const floats = await client.embeddings.create({
      model: "e",
      input: "alpha",
      dimensions: 384,
      encoding_format: "float",
    });
    const [a, b] = b64.data.map((d) => d.embedding);
    const again = floats.data[0]?.embedding ?? [];
    expect(a).toHaveLength(384);
    expect(Math.hypot(...(a ?? []))).toBeCloseTo(1, 5);
    // The same text gives the same vector through both encodings; another text another vector.
    expect([...(a ?? [])]).toEqual(again.map((x) => Math.fround(x)));
    expect(b).not.toEqual(a);
  });

  it("a refused key is the package's AuthenticationError, and so is status:401", async () => {
    await expect(clientFor("no-script-here").models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // With a good key, what the fake does not serve is a plain 404.
    await expect(clientFor(keyFor("ok")).models.list()).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const key = keyFor("status:401");
    const err = await clientFor(key, { maxRetries: 2 })
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    // 4xx is not retried by the package.
    expect((await callsOf(key)).count).toBe(1);
  });

  it("fail:2:500 fails twice, then answers: without retries an InternalServerError, with them an answer", async () => {
    const once = keyFor("fail:2:500");
    const err = await clientFor(once)
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: "server_error" });

    const retried = keyFor("fail:2:500");
    const done = await clientFor(retried, { maxRetries: 2 }).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
    });
    expect(done.choices[0]?.message.content).toBe("You asked: x");
    expect((await callsOf(retried)).count).toBe(3);
  });

  it("drop-after:2 streams two content chunks, then the iteration throws", async () => {
    const client = clientFor(keyFor("drop-after:2"));
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "a long question indeed" }],
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(seen.join("")).toBe("You asked:");
  });

  it("an aborted stream is seen by the fake as a connection closed early", async () => {
    const key = keyFor("trickle:200");
    const controller = new AbortController();
    const stream = await clientFor(key).chat.completions.create(
      { model: "m", messages: [{ role: "user", content: "a b c d e f" }], stream: true },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    await expect.poll(async () => (await callsOf(key)).closedEarly).toBe(1);
    expect((await callsOf(key)).count).toBe(1);
  });
});
