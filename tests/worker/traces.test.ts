import { env } from "cloudflare:test";
import { describe, expect, inject, it, vi } from "vitest";
import { bearer, password, registerUser, tenantWithOwner } from "./auth-helpers";
import { connect, group } from "./socket-helpers";
import { call } from "./helpers";
import { createEndpoint, hook, received } from "./webhook-helpers";

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number };
  resource: Record<string, unknown>;
}

const KIND = { server: 2, client: 3, consumer: 5 };
const hex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

const spansOf = async (traceId: string) =>
  (await fetch(`${inject("otlp").url}/__spans/${traceId}`)).json<ReceivedSpan[]>();

/** The value of one sample of /metrics (0 when absent). */
async function sample(line: RegExp): Promise<number> {
  const text = await (await call("/metrics", { headers: bearer(env.METRICS_TOKEN) })).text();
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

describe("traces", () => {
  it("a request's trace continues through its database and Durable Object calls, across the queue to every consumer, and to the webhook it causes", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["user.*"] });
    const traceId = hex(16);
    const callerSpan = hex(8);
    const id = crypto.randomUUID().slice(0, 8);
    const res = await call("/v1/auth/register", {
      method: "POST",
      tenant: tenant.slug,
      json: { username: `t${id}`, email: `t${id}@example.test`, password: password() },
      headers: { traceparent: `00-${traceId}-${callerSpan}-01`, "cf-connecting-ip": "10.9.0.1" },
    });
    expect(res.status).toBe(201);
    const returned = res.headers.get("traceparent")!;
    expect(returned).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const serverSpanId = returned.split("-")[2]!;

    const spans = await vi.waitFor(
      async () => {
        const all = await spansOf(traceId);
        // The sign-up's event reaches its consumers (statistics, notifications).
        expect(
          all.some((s) => s.kind === KIND.consumer && s.attributes["cloudevents.event_type"] === "user.registered"),
        ).toBe(true);
        return all;
      },
      { timeout: 20_000, interval: 300 },
    );
    const server = spans.find((s) => s.spanId === serverSpanId)!;
    expect(server).toMatchObject({
      kind: KIND.server,
      name: "POST /v1/auth/register",
      parentSpanId: callerSpan,
      // OTLP JSON carries 64-bit integers as decimal strings.
      attributes: { "http.route": "/v1/auth/register", "http.response.status_code": "201" },
      resource: { "service.name": "canopy" },
    });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const under = (s: ReceivedSpan, ancestor: string): boolean => {
      for (let p = s.parentSpanId; p; p = byId.get(p)?.parentSpanId) if (p === ancestor) return true;
      return false;
    };
    const db = spans.filter((s) => s.name === "libsql" && s.kind === KIND.client);
    expect(db.some((s) => under(s, serverSpanId))).toBe(true);
    expect(db.every((s) => s.attributes["db.system"] === "libsql")).toBe(true);
    expect(spans.some((s) => s.name === "UserHub.createSession" && under(s, serverSpanId))).toBe(true);
    // Across the queue hop: each consumer's span is a child of the request's span, and its own
    // database calls are children of it.
    const consumers = spans.filter(
      (s) => s.kind === KIND.consumer && s.attributes["cloudevents.event_type"] === "user.registered",
    );
    expect(consumers.length).toBeGreaterThanOrEqual(1);
    for (const c of consumers) expect(c.parentSpanId).toBe(serverSpanId);
    expect(db.some((s) => consumers.some((c) => under(s, c.spanId)))).toBe(true);

    // The webhook the event caused: a client span of the same trace, and its traceparent sent. (The
    // owner's own sign-up, made with the tenant, is delivered too: outside this trace.)
    const sent = await vi.waitFor(
      async () => {
        const mine = (await received(h.path)).find((r) => r.headers.traceparent?.includes(traceId));
        expect(mine).toBeDefined();
        return mine!.headers.traceparent!;
      },
      { timeout: 20_000, interval: 300 },
    );
    expect(sent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const post = await vi.waitFor(
      async () => {
        const span = (await spansOf(traceId)).find((s) => s.name === "webhook POST");
        expect(span).toBeDefined();
        return span!;
      },
      { timeout: 10_000, interval: 300 },
    );
    expect(post).toMatchObject({ kind: KIND.client, spanId: sent.split("-")[2] });
  });

  it("a message sent over a socket is one trace: the frame, the conversation's append, every member's delivery, its consumers and push", async () => {
    const { tenant } = await tenantWithOwner();
    const slug = tenant.slug;
    const [a, b, c] = await Promise.all([registerUser(slug), registerUser(slug), registerUser(slug)]);
    const gid = await group(slug, a, [b, c]);
    const [sa, sb] = await Promise.all([
      connect(slug, { token: a.tokens.accessToken }),
      connect(slug, { token: b.tokens.accessToken }),
    ]);
    const clientId = crypto.randomUUID();
    sa.send({ type: "send", clientId, conversationId: gid, kind: "text", body: { text: "traced" } });
    await sa.frame("ack", (f) => f.clientId === clientId);
    await sb.frame("message", (f) => f.conversationId === gid);
    const find = async () =>
      (await fetch(`${inject("otlp").url}/__find?attr=canopy.client_id&value=${clientId}`)).json<string[]>();
    const spans = await vi.waitFor(
      async () => {
        const [traceId] = await find();
        expect(traceId).toBeDefined();
        const all = await spansOf(traceId!);
        // The gateways serving the other members took the message, naming them (the sender, on one
        // device, writes its own copy): one span per gateway.
        const gateways = all.filter((s) => s.name === "RealtimeGateway.deliver" && s.kind === KIND.server);
        const named = gateways.flatMap((s) => String(s.attributes["canopy.user_ids"]).split(","));
        expect(named.sort()).toEqual([b.userId, c.userId].sort());
        // The message.created consumers: the log's copy, statistics, and c's push notification.
        expect(
          all.some((s) => s.kind === KIND.consumer && s.attributes["cloudevents.event_type"] === "message.created"),
        ).toBe(true);
        return all;
      },
      { timeout: 20_000, interval: 300 },
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const root = spans.find((s) => s.name === "ws send")!;
    expect(root).toMatchObject({ kind: KIND.server, attributes: { "messaging.destination.name": gid } });
    expect(root.parentSpanId).toBeUndefined();
    const under = (s: ReceivedSpan, ancestor: string): boolean => {
      for (let p = s.parentSpanId; p; p = byId.get(p)?.parentSpanId) if (p === ancestor) return true;
      return false;
    };
    const append = spans.find((s) => s.name === "Conversation.send" && s.kind === KIND.server)!;
    expect(under(append, root.spanId)).toBe(true);
    for (const d of spans.filter((s) => s.name === "RealtimeGateway.deliver"))
      expect(under(d, append.spanId)).toBe(true);
    const consumers = spans.filter((s) => s.kind === KIND.consumer);
    for (const k of consumers) expect(k.parentSpanId).toBe(append.spanId);
    // c was offline: its push went out from the notification queue, in this trace.
    expect(consumers.some((k) => String(k.attributes["messaging.destination.name"]).includes("notification"))).toBe(
      true,
    );
  });

  it("passes an unsampled caller's trace on without recording it, and starts a trace for a bad traceparent", async () => {
    const traceId = hex(16);
    const res = await call("/healthz", { headers: { traceparent: `00-${traceId}-${hex(8)}-00` } });
    expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    // Upper-case hex is not W3C: a new trace starts, the caller's id is not taken over.
    const bad = `00-${traceId.toUpperCase()}-${hex(8)}-01`;
    const forged = await call("/healthz", { headers: { traceparent: bad } });
    expect(forged.headers.get("traceparent")!.toLowerCase()).not.toContain(traceId);
    // What an unsampled request would have exported is long flushed by now (at most a second).
    await new Promise((r) => setTimeout(r, 2500));
    expect(await spansOf(traceId)).toEqual([]);
  });

  it("drops and counts spans the collector does not take", async () => {
    const dropped = /^canopy_spans_dropped_total\{reason="export_failed"\} (\d+)$/m;
    const before = await sample(dropped);
    await fetch(`${inject("otlp").url}/__control`, { method: "POST", body: JSON.stringify({ failNext: 3 }) });
    await vi.waitFor(
      async () => {
        await call("/healthz", { headers: { traceparent: `00-${hex(16)}-${hex(8)}-01` } });
        expect(await sample(dropped)).toBeGreaterThan(before);
      },
      { timeout: 20_000, interval: 500 },
    );
  });
});
