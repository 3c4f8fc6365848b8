/**
 * The workerd config of the fault harness: bench/workerd-config.ts's (the built bundle, SQLite
 * Durable Objects on a local disk directory, loopback outbound), with two changes the harness
 * needs and the benchmark does not:
 * - each queue producer is bound to its own port of the harness's queue broker (broker.ts), an
 *   `external` service, instead of the benchmark's in-process sink that drops every message;
 * - a small trigger Worker on a socket of its own hands the broker's batches to the bundle's
 *   `queue()` handler and runs its `scheduled()` handler (the minute cron) on request, through a
 *   service binding with workerd's `service_binding_extra_handlers` flag (experimental: workerd
 *   runs with `--experimental`). Raw workerd has neither consumers nor cron triggers of its own.
 * The benchmark's generator is reused as is and its output rewritten at named anchors; each
 * rewrite throws if its anchor is missing, so a change there fails loudly here.
 */
import {
  compatibilityDateOf,
  compatibilityFlagsOf,
  QUEUE_BINDINGS,
  workerdConfig,
  type WorkerdConfigOptions,
} from "../bench/workerd-config";

/** The trigger Worker: `POST /queue {queue, messages}` → `CANOPY.queue()`, `POST /scheduled` → `CANOPY.scheduled()`. */
export const TRIGGER_SOURCE = `export default {
  async fetch(req, env) {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === "/queue") {
      const { queue, messages } = await req.json();
      const batch = messages.map((m) => ({ id: m.id, timestamp: new Date(m.timestamp), body: m.body, attempts: m.attempts }));
      return Response.json(await env.CANOPY.queue(queue, batch));
    }
    if (req.method === "POST" && path === "/scheduled") {
      return Response.json(await env.CANOPY.scheduled({ scheduledTime: new Date(), cron: "* * * * *" }));
    }
    return new Response("not found", { status: 404 });
  },
};
`;

export interface FaultConfigOptions extends Omit<WorkerdConfigOptions, "queueSink" | "extra" | "compatibilityDate"> {
  wranglerToml: string;
  /** Broker port per producer binding. */
  queuePorts: Map<string, number>;
  triggerPort: number;
}

function replaceOnce(text: string, anchor: string | RegExp, by: string): string {
  const found = typeof anchor === "string" ? text.includes(anchor) : anchor.test(text);
  if (!found)
    throw new Error(`faults/workerd-config: anchor ${String(anchor)} not found in bench/workerd-config.ts's output`);
  return text.replace(anchor, by);
}

const str = (s: string): string => JSON.stringify(s);

/** The capnp text; `queuePorts` must name every binding of QUEUE_BINDINGS. */
export function faultWorkerdConfig(o: FaultConfigOptions): string {
  const compatibilityDate = compatibilityDateOf(o.wranglerToml);
  const compatibilityFlags = compatibilityFlagsOf(o.wranglerToml);
  let text = workerdConfig({ ...o, compatibilityDate, compatibilityFlags, queueSink: true });
  const services: string[] = [];
  for (const binding of QUEUE_BINDINGS) {
    const port = o.queuePorts.get(binding);
    if (port === undefined) throw new Error(`no broker port for ${binding}`);
    text = replaceOnce(
      text,
      `(name = ${str(binding)}, queue = "queue-sink")`,
      `(name = ${str(binding)}, queue = ${str(`queue-${binding}`)})`,
    );
    services.push(
      `(name = ${str(`queue-${binding}`)}, external = (address = ${str(`127.0.0.1:${port}`)}, http = ())),`,
    );
  }
  services.push(`(name = "fault-trigger", worker = .faultTrigger),`);
  text = replaceOnce(text, /^\s*\(name = "queue-sink", worker = .*\),$/m, services.map((s) => `    ${s}`).join("\n"));
  text = replaceOnce(
    text,
    "  sockets = [\n",
    `  sockets = [\n    (name = "trigger-http", address = ${str(`127.0.0.1:${o.triggerPort}`)}, http = (), service = "fault-trigger"),\n`,
  );
  return `${text}
const faultTrigger :Workerd.Worker = (
  modules = [(name = "trigger.js", esModule = ${str(TRIGGER_SOURCE)})],
  compatibilityDate = ${str(compatibilityDate)},
  compatibilityFlags = ["service_binding_extra_handlers"],
  bindings = [(name = "CANOPY", service = "canopy")],
);
`;
}
