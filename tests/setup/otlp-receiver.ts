/**
 * A local OTLP/HTTP receiver for the tests: takes `POST /v1/traces` (OTLP JSON), decodes every
 * span and keeps it by trace id, as a collector would. Tests inside workerd read it over fetch:
 * - `GET /__spans/<traceId>`: the spans of one trace, decoded (`{ name, kind, traceId, spanId,
 *   parentSpanId, attributes, status, resource }`);
 * - `GET /__find?attr=<key>&value=<value>`: the ids of the traces with a span carrying that attribute;
 * - `POST /__control` `{ "failNext": 3 }`: the next 3 exports get 503 (a collector that is down).
 * A body that is not an OTLP JSON export gets 400 and is counted (`GET /__stats`), so a malformed
 * export fails the tests instead of passing unnoticed.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

type OtlpValue = { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
type OtlpAttr = { key: string; value: OtlpValue };

const MAX_TRACES = 20_000;
const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);

const attrs = (list: OtlpAttr[] | undefined) =>
  Object.fromEntries(
    (list ?? []).map((a) => [
      a.key,
      a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue,
    ]),
  );

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Decodes an export; throws on anything an OTLP collector would refuse. */
function decode(body: string): ReceivedSpan[] {
  const doc = JSON.parse(body) as {
    resourceSpans: { resource?: { attributes?: OtlpAttr[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        const span = s as unknown as ReceivedSpan & { attributes: OtlpAttr[] };
        if (!HEX(32).test(span.traceId) || !HEX(16).test(span.spanId)) throw new Error("bad ids");
        if (span.parentSpanId !== undefined && !HEX(16).test(span.parentSpanId)) throw new Error("bad parent id");
        if (!/^\d+$/.test(span.startTimeUnixNano) || !/^\d+$/.test(span.endTimeUnixNano)) throw new Error("bad times");
        if (BigInt(span.endTimeUnixNano) < BigInt(span.startTimeUnixNano)) throw new Error("ends before it starts");
        out.push({ ...span, attributes: attrs(span.attributes), resource });
      }
  }
  return out;
}

export async function startOtlpReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const traces = new Map<string, ReceivedSpan[]>();
  const stats = { exports: 0, spans: 0, refused: 0, malformed: 0 };
  let failNext = 0;
  const server = createServer((req, res) => {
    void read(req).then((body) => {
      const json = (status: number, v: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(v));
      if (req.method === "POST" && req.url === "/v1/traces") {
        if (failNext > 0) {
          failNext--;
          stats.refused++;
          return json(503, { error: "down" });
        }
        let spans: ReceivedSpan[];
        try {
          spans = decode(body);
        } catch (err) {
          stats.malformed++;
          return json(400, { error: String(err) });
        }
        stats.exports++;
        stats.spans += spans.length;
        for (const s of spans) {
          const list = traces.get(s.traceId) ?? [];
          list.push(s);
          traces.delete(s.traceId);
          traces.set(s.traceId, list);
          if (traces.size > MAX_TRACES) traces.delete(traces.keys().next().value!);
        }
        return json(200, {});
      }
      if (req.method === "POST" && req.url === "/__control") {
        failNext = Number((JSON.parse(body) as { failNext?: number }).failNext ?? 0);
        return json(200, { failNext });
      }
      if (req.method === "GET" && req.url?.startsWith("/__spans/"))
        return json(200, traces.get(req.url.slice("/__spans/".length)) ?? []);
      if (req.method === "GET" && req.url === "/__stats") return json(200, stats);
      // The traces holding a span with an attribute of a value: GET /__find?attr=<key>&value=<value>.
      if (req.method === "GET" && req.url?.startsWith("/__find?")) {
        const q = new URL(req.url, "http://receiver").searchParams;
        const [key, value] = [q.get("attr") ?? "", q.get("value") ?? ""];
        const ids = [...traces].filter(([, spans]) => spans.some((s) => s.attributes[key] === value)).map(([id]) => id);
        return json(200, ids);
      }
      return json(404, { error: "not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
