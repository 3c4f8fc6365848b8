import { createParser, type EventSourceMessage } from "eventsource-parser";
import { expect, inject } from "vitest";
import { as, type Tokens } from "./auth-helpers";
import { call } from "./helpers";

/** A parsed server-sent event of the chat stream. */
export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

export interface Done {
  sessionId: string;
  usage: { units: number; inputTokens: number; outputTokens: number };
  sources: { id: string; title: string }[];
  answered: boolean;
  degraded?: boolean;
  handoff?: { path: string };
}

/** POST /v1/ai/chat as `u`; `signal` aborts the request as a client closing it would. */
export const chat = (
  slug: string,
  u: { tokens: Tokens },
  json: { message: string; sessionId?: string },
  signal?: AbortSignal,
) => call("/v1/ai/chat", { method: "POST", ...as(slug, u), json, ...(signal ? { signal } : {}) });

/**
 * Reads a response's body as server-sent events with eventsource-parser, a real client's parser
 * (not ours). `stopAfter` frames in, the reader is cancelled: the client going away.
 */
export async function framesOf(res: Response, stopAfter = Number.POSITIVE_INFINITY): Promise<Frame[]> {
  const frames: Frame[] = [];
  const parser = createParser({
    onEvent: (m: EventSourceMessage) => frames.push({ event: m.event ?? "message", data: JSON.parse(m.data) }),
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(value);
    if (frames.length >= stopAfter) {
      await reader.cancel();
      break;
    }
  }
  return frames;
}

/** One whole turn: the frames, the concatenated deltas and the `done` frame (undefined if none). */
export async function ask(slug: string, u: { tokens: Tokens }, message: string, sessionId?: string) {
  const res = await chat(slug, u, { message, ...(sessionId ? { sessionId } : {}) });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const frames = await framesOf(res);
  const text = frames
    .filter((f) => f.event === "delta")
    .map((f) => f.data.text as string)
    .join("");
  const done = frames.find((f) => f.event === "done")?.data as Done | undefined;
  return { frames, text, done, error: frames.find((f) => f.event === "error")?.data };
}

/** Adds an article as `admin`. */
export async function addArticle(
  slug: string,
  admin: { tokens: Tokens },
  article: { title: string; body: string; tags?: string[] },
) {
  const res = await call("/v1/admin/ai/knowledge", { method: "POST", ...as(slug, admin), json: article });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<{ id: string; title: string; body: string; tags: string[]; createdAt: string; updatedAt: string }>();
}

export interface SessionDetail {
  session: { id: string; title: string; status: string; conversationId: string | null };
  messages: {
    id: string;
    role: string;
    content: string;
    status: string;
    degraded: boolean;
    sources: { id: string; title: string }[];
    units: number;
  }[];
}

/** GET /v1/ai/chat/sessions/{id} as `u`, expected to be found. */
export async function sessionOf(slug: string, u: { tokens: Tokens }, id: string): Promise<SessionDetail> {
  const res = await call(`/v1/ai/chat/sessions/${id}`, as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<SessionDetail>();
}

/** The OpenAI-shaped server outside the system (tests/setup/openai-fake.ts) serving `features` (chat) for the tenant. */
export async function chatThroughFake(
  slug: string,
  owner: { tokens: Tokens },
  script: string,
  features: string[] = ["chat"],
): Promise<string> {
  const apiKey = `${crypto.randomUUID()}.${script}`;
  const res = await call("/v1/admin/ai/providers/openai-compatible", {
    method: "PUT",
    ...as(slug, owner),
    json: { baseUrl: `${inject("openai").url}/v1`, apiKey, model: "gpt-test", features },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return apiKey;
}

/** How many requests the fake saw with a key, and how many of them the client closed early. */
export async function fakeCalls(key: string): Promise<{ count: number; closedEarly: number }> {
  const res = await fetch(`${inject("openai").url}/__calls/${encodeURIComponent(key)}`);
  return res.json<{ count: number; closedEarly: number }>();
}
