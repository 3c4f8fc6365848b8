/**
 * A fake of the OpenAI API surface Canopy's `openai-compatible` provider calls: a real HTTP server
 * outside the Worker, on 127.0.0.1, speaking the wire shape the official `openai` package reads
 * (tests/node/openai-fake.test.ts holds it to that):
 * - `POST /v1/chat/completions`: JSON, or with `stream: true` SSE `chat.completion.chunk`s (role,
 *   one chunk per word, a finish chunk, a usage chunk with `choices: []` when
 *   `stream_options.include_usage`, then `data: [DONE]`). The answer echoes the last user message
 *   ("You asked: …"), one token per word, cut at `max_tokens` (`finish_reason: "length"`). With
 *   `response_format: { type: "json_object" }` the answer is a moderation object
 *   `{"categories":{"spam":0,…}}` whose scores come from the key's `scores:` part.
 * - `POST /v1/embeddings`: `input` a string or strings, `dimensions` honoured (default 1536),
 *   deterministic unit vectors (the same text, the same vector), `encoding_format` float or base64.
 * - `GET /__calls/<key>` (the key URL-encoded): `{ count, closedEarly }`, the `/v1/` requests made
 *   with that key and how many of them the client closed before the answer ended (an abort).
 *
 * Behaviour is scripted by the API key (`Authorization: Bearer <key>`), so parallel tests never
 * share state. A key is `<script>` or `<prefix>.<script>` (the prefix has no dot: a test's own
 * name or a random id); a script is one or more parts joined by `+`:
 * - `ok`: answers at once;
 * - `slow:<ms>`: waits that long before the answer (before the first chunk when streaming);
 * - `trickle:<ms>`: waits that long between stream chunks;
 * - `fail:<n>:<status>`: the first n requests with this key fail with that 4xx/5xx status and
 *   OpenAI's error body, later ones succeed;
 * - `status:<code>`: every request fails with that 4xx/5xx status (e.g. 401, 429, 503);
 * - `hang`: never answers (the socket stays open until the client gives up);
 * - `drop-after:<k>`: streams k content chunks then destroys the socket (no finish, no `[DONE]`);
 *   a non-streaming request is dropped before any byte;
 * - `scores:<category>=<score>,…`: the moderation object's scores (others 0).
 * A key whose script does not parse, or no bearer at all, is 401 `invalid_api_key`, so a typo in a
 * test fails loudly instead of behaving as `ok`.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What a key asks of the fake (see the grammar above). */
export interface OpenAiFakeScript {
  slowMs: number;
  trickleMs: number;
  fail?: { n: number; status: number };
  status?: number;
  hang: boolean;
  dropAfter?: number;
  scores: Record<string, number>;
}

const MODERATION_KEYS = ["spam", "harassment", "hate", "violence", "sexual", "self_harm"];
const MAX_BODY = 1024 * 1024;

/** Parses a key's script; `null` when it is not one (the key is then refused). */
export function parseOpenAiFakeKey(key: string): OpenAiFakeScript | null {
  const dot = key.indexOf(".");
  return parseScript(key) ?? (dot > 0 ? parseScript(key.slice(dot + 1)) : null);
}

function parseScript(script: string): OpenAiFakeScript | null {
  const s: OpenAiFakeScript = { slowMs: 0, trickleMs: 0, hang: false, scores: {} };
  for (const part of script.split("+")) {
    let m: RegExpExecArray | null;
    if (part === "ok") continue;
    if (part === "hang") s.hang = true;
    else if ((m = /^slow:(\d+)$/.exec(part))) s.slowMs = Number(m[1]);
    else if ((m = /^trickle:(\d+)$/.exec(part))) s.trickleMs = Number(m[1]);
    else if ((m = /^fail:(\d+):([45]\d\d)$/.exec(part))) s.fail = { n: Number(m[1]), status: Number(m[2]) };
    else if ((m = /^status:([45]\d\d)$/.exec(part))) s.status = Number(m[1]);
    else if ((m = /^drop-after:(\d+)$/.exec(part))) s.dropAfter = Number(m[1]);
    else if ((m = /^scores:(.+)$/.exec(part))) {
      for (const pair of (m[1] ?? "").split(",")) {
        const [name, value] = pair.split("=");
        const score = Number(value);
        if (!name || !MODERATION_KEYS.includes(name) || !(score >= 0 && score <= 1)) return null;
        s.scores[name] = score;
      }
    } else return null;
  }
  return s;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": `req_fake_${Date.now()}` });
  res.end(JSON.stringify(body));
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`, typed by status as OpenAI does. */
function openAiError(status: number, message: string, code: string | null = null) {
  const type =
    status === 401
      ? "invalid_request_error"
      : status === 429
        ? "rate_limit_error"
        : status >= 500
          ? "server_error"
          : "invalid_request_error";
  return { error: { message, type, param: null, code } };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whitespace-separated words: the fake's tokens, for prompts and answers alike. */
const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** A deterministic unit vector for a text: SHA-256 in counter mode mapped to [-1, 1), normalised. */
function embeddingOf(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  for (let block = 0; block * 8 < dimensions; block++) {
    const digest = createHash("sha256").update(`${block}:${text}`).digest();
    for (let i = 0; i < 8 && block * 8 + i < dimensions; i++) {
      v[block * 8 + i] = digest.readUInt32LE(i * 4) / 2 ** 31 - 1;
    }
  }
  const norm = Math.hypot(...v);
  for (let i = 0; i < dimensions; i++) v[i] = (v[i] ?? 0) / norm;
  return v;
}

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  response_format?: { type?: unknown };
}

interface Message {
  role: string;
  content: string;
}

function isMessages(m: unknown): m is Message[] {
  return (
    Array.isArray(m) &&
    m.length > 0 &&
    m.every((x) => typeof x?.role === "string" && typeof (x as { content?: unknown }).content === "string")
  );
}

export async function startOpenAiFake(): Promise<{ url: string; close(): Promise<void> }> {
  const calls = new Map<string, { count: number; closedEarly: number }>();
  let n = 0;

  async function chat(res: ServerResponse, body: ChatBody, script: OpenAiFakeScript, guard: () => boolean) {
    // One signature for both routes; the chat body's fields are checked as they are read.
    if (!isMessages(body.messages)) {
      return json(res, 400, openAiError(400, "'messages' must be a non-empty array of { role, content }."));
    }
    const model = typeof body.model === "string" ? body.model : "gpt-fake";
    const maxTokens = Number(body.max_tokens ?? body.max_completion_tokens ?? Number.POSITIVE_INFINITY);
    const asked = [...body.messages].reverse().find((m) => m.role === "user")?.content ?? "";
    const full =
      body.response_format?.type === "json_object"
        ? [JSON.stringify({ categories: Object.fromEntries(MODERATION_KEYS.map((k) => [k, script.scores[k] ?? 0])) })]
        : words(`You asked: ${asked}`);
    const answer = full.slice(0, Math.max(0, maxTokens));
    const finishReason = answer.length < full.length ? "length" : "stop";
    const usage = {
      prompt_tokens: body.messages.reduce((sum, m) => sum + words(m.content).length, 0),
      completion_tokens: answer.length,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-fake${++n}`;
    const created = Math.floor(Date.now() / 1000);

    if (body.stream !== true) {
      await sleep(script.slowMs);
      if (script.dropAfter !== undefined) return void res.destroy();
      if (!guard()) return;
      return json(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: answer.join(" "), refusal: null },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
      });
    }

    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })}\n\n`,
      );
    const delta = (d: Record<string, unknown>, finish: string | null = null) =>
      send([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
    await sleep(script.slowMs);
    if (!guard()) return;
    delta({ role: "assistant", content: "" });
    for (const [i, word] of answer.entries()) {
      if (script.dropAfter !== undefined && i >= script.dropAfter) break;
      if (i > 0) await sleep(script.trickleMs);
      if (!guard()) return;
      delta({ content: i === 0 ? word : ` ${word}` });
    }
    if (script.dropAfter !== undefined) {
      // Let the chunks already written leave before the connection dies, as a dying proxy would.
      await sleep(20);
      return void res.destroy();
    }
    delta({}, finishReason);
    if (body.stream_options?.include_usage === true) send([], { usage });
    res.end("data: [DONE]\n\n");
  }

  async function embeddings(
    res: ServerResponse,
    body: Record<string, unknown>,
    script: OpenAiFakeScript,
    guard: () => boolean,
  ) {
    const input = typeof body.input === "string" ? [body.input] : body.input;
    if (!Array.isArray(input) || input.length === 0 || !input.every((s) => typeof s === "string")) {
      return json(res, 400, openAiError(400, "'input' must be a string or a non-empty array of strings."));
    }
    const dimensions = body.dimensions === undefined ? 1536 : Number(body.dimensions);
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 3072) {
      return json(res, 400, openAiError(400, "'dimensions' must be an integer from 1 to 3072."));
    }
    await sleep(script.slowMs);
    if (script.dropAfter !== undefined) return void res.destroy();
    if (!guard()) return;
    const base64 = body.encoding_format === "base64";
    const tokens = input.reduce((sum: number, s: string) => sum + words(s).length, 0);
    json(res, 200, {
      object: "list",
      data: input.map((text: string, index) => {
        const v = embeddingOf(text, dimensions);
        return {
          object: "embedding",
          index,
          embedding: base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : [...v],
        };
      }),
      model: typeof body.model === "string" ? body.model : "text-embedding-fake",
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://openai-fake");
      const raw = await readBody(req);
      if (req.method === "GET" && url.pathname.startsWith("/__calls/")) {
        const key = decodeURIComponent(url.pathname.slice("/__calls/".length));
        return json(res, 200, calls.get(key) ?? { count: 0, closedEarly: 0 });
      }
      const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
      const counter = key === undefined ? undefined : (calls.get(key) ?? { count: 0, closedEarly: 0 });
      let dropped = false;
      if (key !== undefined && counter) {
        calls.set(key, counter);
        counter.count++;
        // A client abort closes the connection before the answer ended; the fake's own drops do not count.
        res.on("close", () => {
          if (!res.writableFinished && !dropped) counter.closedEarly++;
        });
      }
      // Writing after the client left would throw; every await in an answer checks this first.
      const guard = () => !res.destroyed && !res.writableEnded;
      const script = key === undefined ? null : parseOpenAiFakeKey(key);
      if (!script) {
        return json(res, 401, openAiError(401, "Incorrect API key provided (no fake script).", "invalid_api_key"));
      }
      if (script.hang) return;
      if (script.dropAfter !== undefined) {
        const destroy = res.destroy.bind(res);
        res.destroy = (err?: Error) => {
          dropped = true;
          return destroy(err);
        };
      }
      const failing = script.fail && (counter?.count ?? 0) <= script.fail.n ? script.fail.status : script.status;
      if (failing !== undefined) {
        await sleep(script.slowMs);
        if (!guard()) return;
        return json(res, failing, openAiError(failing, `The fake failed on purpose (${failing}).`));
      }
      const route =
        req.method !== "POST"
          ? undefined
          : { "/v1/chat/completions": chat, "/v1/embeddings": embeddings }[url.pathname];
      if (!route) {
        return json(res, 404, openAiError(404, `Unknown request URL: ${req.method} ${url.pathname}.`, "unknown_url"));
      }
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return json(res, 400, openAiError(400, "The body is not a JSON object."));
      }
      return route(res, body as Record<string, unknown>, script, guard);
    })().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, openAiError(500, String(err)));
      else res.destroy();
    });
  });

  // A failed listen rejects (it would otherwise leave the set-up waiting for ever).
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // `hang` keys keep sockets open; closing them lets the server stop.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
