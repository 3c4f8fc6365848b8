/**
 * The workerd config (capnp text) that serves the built bundle the way production runs it: the
 * ES module from `wrangler deploy --dry-run`, text bindings, SQLite-backed Durable Objects on a
 * local disk, and an outbound network that may reach loopback (the local libSQL server).
 * Queue producers and R2 are left out unless asked for: raw workerd has no local R2, so a
 * benchmark that stores objects gets a writable disk directory as the `BENCH_BLOBS` service
 * (bench/privacy/entry.mts stands it in for the bucket). An extra Worker (the
 * realtime benchmark's bare Durable Object) may run in the same process on a socket of its own.
 */
import { readFileSync } from "node:fs";

export const DO_CLASSES = [
  { binding: "USER_HUB", className: "UserHub" },
  { binding: "CONVERSATION", className: "Conversation" },
  { binding: "QUOTA", className: "Quota" },
  { binding: "RATE_LIMITER", className: "RateLimiter" },
  { binding: "METRICS_HUB", className: "MetricsHub" },
  { binding: "REALTIME_GATEWAY", className: "RealtimeGateway" },
] as const;

/**
 * Queue producers of wrangler.toml. With `queueSink`, each is bound to a Worker that accepts
 * every message and drops it (workerd turns a queue send into an HTTP request to the service),
 * so the Durable Objects' outboxes publish as they would in production instead of failing and
 * retrying from their alarms.
 */
export const QUEUE_BINDINGS = ["NOTIFICATION_QUEUE", "STATISTICS_QUEUE", "AI_QUEUE", "DEAD_LETTER_QUEUE"] as const;

/** A second Worker service in the same workerd process: its module, port and Durable Objects. */
export interface ExtraWorker {
  /** Path of its ES module, relative to the config file's directory. */
  modulePath: string;
  port: number;
  durableObjects: { binding: string; className: string }[];
}

export interface WorkerdConfigOptions {
  /** Path of the bundle, relative to the config file's directory (capnp `embed` resolves it there). */
  modulePath: string;
  /** Absolute directory for Durable Object storage. */
  doDiskPath: string;
  port: number;
  compatibilityDate: string;
  /** The Worker's compatibility flags (wrangler.toml's). */
  compatibilityFlags?: string[];
  /** Text bindings (vars and secrets). */
  text: Record<string, string>;
  extra?: ExtraWorker;
  /** Bind the queue producers to a sink (see QUEUE_BINDINGS); otherwise they are left unbound. */
  queueSink?: boolean;
  /** A writable directory served as the `BENCH_BLOBS` service (GET, HEAD, PUT, DELETE of files). */
  blobDiskPath?: string;
  /** Durable Object classes of a bench bundle besides the product's (e.g. bench/floors/entry.mts's). */
  durableObjects?: { binding: string; className: string }[];
}

/** The queue sink's module: accepts every send and batch. */
const SINK =
  "export default { async fetch(req) { await req.arrayBuffer(); return Response.json({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } }); } };";

/** A capnp string literal. */
function str(s: string): string {
  return JSON.stringify(s);
}

/** `compatibility_date` from wrangler.toml. */
export function compatibilityDateOf(wranglerToml: string): string {
  const m = /^\s*compatibility_date\s*=\s*"(\d{4}-\d{2}-\d{2})"/m.exec(readFileSync(wranglerToml, "utf8"));
  if (!m?.[1]) throw new Error(`no compatibility_date in ${wranglerToml}`);
  return m[1];
}

/** `compatibility_flags` from wrangler.toml (`nodejs_als`: the tracing context needs it). */
export function compatibilityFlagsOf(wranglerToml: string): string[] {
  const m = /^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(readFileSync(wranglerToml, "utf8"));
  return m ? [...m[1]!.matchAll(/"([^"]+)"/g)].map((f) => f[1]!) : [];
}

export function workerdConfig(o: WorkerdConfigOptions): string {
  const classes = [...DO_CLASSES, ...(o.durableObjects ?? [])];
  const bindings = [
    ...Object.entries(o.text).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`),
    ...classes.map((d) => `(name = ${str(d.binding)}, durableObjectNamespace = ${str(d.className)})`),
    ...(o.queueSink ? QUEUE_BINDINGS.map((q) => `(name = ${str(q)}, queue = "queue-sink")`) : []),
    ...(o.blobDiskPath ? ['(name = "BENCH_BLOBS", service = "blob-disk")'] : []),
  ];
  const namespaces = classes.map(
    (d) => `(className = ${str(d.className)}, uniqueKey = ${str(`canopy-bench-${d.className}`)}, enableSql = true)`,
  );
  const indent = (items: string[]): string => items.map((i) => `    ${i},`).join("\n");
  const x = o.extra;
  const extraService =
    (x ? `\n    (name = "extra", worker = .extra),` : "") +
    (o.blobDiskPath ? `\n    (name = "blob-disk", disk = (path = ${str(o.blobDiskPath)}, writable = true)),` : "") +
    (o.queueSink
      ? `\n    (name = "queue-sink", worker = (modules = [(name = "sink.js", esModule = ${str(SINK)})], compatibilityDate = ${str(o.compatibilityDate)})),`
      : "");
  const extraSocket = x
    ? `\n    (name = "extra-http", address = ${str(`127.0.0.1:${x.port}`)}, http = (), service = "extra"),`
    : "";
  const extraWorker = x
    ? `
const extra :Workerd.Worker = (
  modules = [(name = ${str(x.modulePath)}, esModule = embed ${str(x.modulePath)})],
  compatibilityDate = ${str(o.compatibilityDate)},
  bindings = [
${indent(x.durableObjects.map((d) => `(name = ${str(d.binding)}, durableObjectNamespace = ${str(d.className)})`))}
  ],
  durableObjectNamespaces = [
${indent(x.durableObjects.map((d) => `(className = ${str(d.className)}, uniqueKey = ${str(`canopy-bench-extra-${d.className}`)}, enableSql = true)`))}
  ],
  durableObjectStorage = (localDisk = "do-disk"),
);
`
    : "";
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "canopy", worker = .canopy),
    (name = "loopback", network = (allow = ["public", "private", "local"])),
    (name = "do-disk", disk = (path = ${str(o.doDiskPath)}, writable = true)),${extraService}
  ],
  sockets = [
    (name = "http", address = ${str(`127.0.0.1:${o.port}`)}, http = (), service = "canopy"),${extraSocket}
  ],
);

const canopy :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed ${str(o.modulePath)})],
  compatibilityDate = ${str(o.compatibilityDate)},
  compatibilityFlags = [${(o.compatibilityFlags ?? []).map(str).join(", ")}],
  bindings = [
${indent(bindings)}
  ],
  durableObjectNamespaces = [
${indent(namespaces)}
  ],
  durableObjectStorage = (localDisk = "do-disk"),
  globalOutbound = "loopback",
);
${extraWorker}`;
}
