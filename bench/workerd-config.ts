/**
 * The workerd config (capnp text) that serves the built bundle the way production runs it: the
 * ES module from `wrangler deploy --dry-run`, text bindings, SQLite-backed Durable Objects on a
 * local disk, and an outbound network that may reach loopback (the local libSQL server).
 * Queue producers and R2 are left out: no benchmarked route touches them.
 */
import { readFileSync } from "node:fs";

export const DO_CLASSES = [
  { binding: "USER_HUB", className: "UserHub" },
  { binding: "CONVERSATION", className: "Conversation" },
  { binding: "QUOTA", className: "Quota" },
  { binding: "RATE_LIMITER", className: "RateLimiter" },
] as const;

export interface WorkerdConfigOptions {
  /** Path of the bundle, relative to the config file's directory (capnp `embed` resolves it there). */
  modulePath: string;
  /** Absolute directory for Durable Object storage. */
  doDiskPath: string;
  port: number;
  compatibilityDate: string;
  /** Text bindings (vars and secrets). */
  text: Record<string, string>;
}

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

export function workerdConfig(o: WorkerdConfigOptions): string {
  const bindings = [
    ...Object.entries(o.text).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`),
    ...DO_CLASSES.map((d) => `(name = ${str(d.binding)}, durableObjectNamespace = ${str(d.className)})`),
  ];
  const namespaces = DO_CLASSES.map(
    (d) => `(className = ${str(d.className)}, uniqueKey = ${str(`canopy-bench-${d.className}`)}, enableSql = true)`,
  );
  const indent = (items: string[]): string => items.map((i) => `    ${i},`).join("\n");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "canopy", worker = .canopy),
    (name = "loopback", network = (allow = ["public", "private", "local"])),
    (name = "do-disk", disk = (path = ${str(o.doDiskPath)}, writable = true)),
  ],
  sockets = [
    (name = "http", address = ${str(`127.0.0.1:${o.port}`)}, http = (), service = "canopy"),
  ],
);

const canopy :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed ${str(o.modulePath)})],
  compatibilityDate = ${str(o.compatibilityDate)},
  bindings = [
${indent(bindings)}
  ],
  durableObjectNamespaces = [
${indent(namespaces)}
  ],
  durableObjectStorage = (localDisk = "do-disk"),
  globalOutbound = "loopback",
);
`;
}
