/**
 * `npm run bench:ops [-- --rounds 5 --requests 2000 --no-build --keep]`
 *
 * What metrics and tracing cost on the request path (issue 17's goal: the chain's p50 with them on
 * at most 1.1× the chain with them off). Builds the bundle and serves it twice with raw workerd,
 * each next to a local libSQL server of its own: once with TELEMETRY=on, every trace sampled and
 * spans exported to a local OTLP sink (a Node server that reads and drops them), metrics flushed
 * to the MetricsHub objects; once with TELEMETRY=off. In interleaved rounds it measures sequential
 * latency of the bare route (the floor), the gateway chain (GET /v1/time) and an authenticated
 * read (GET /v1/me: a token check and a tenant DB read, so database spans too) on both. Reports
 * medians of the per-round p50s and the ratios; writes bench/results/ops-<timestamp>.md.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { registerUsers } from "../auth-users";
import { inScratch, runMain } from "../entry";
import { machine } from "../machine";
import { latency, median, type Target } from "../measure";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "../options";
import { loadNow, workerdWarnings, writeResults } from "../record";
import { createTenant, progress, startServers } from "../servers";
import { TENANT_CONFIG } from "../stack";

const root = new URL("../..", import.meta.url).pathname;
const TENANT = "ops-bench";

interface Options extends RunOptions {
  rounds: number;
  requests: number;
}

function parse(): Options {
  const { values } = parseArgs({
    options: { rounds: { type: "string" }, requests: { type: "string" }, ...RUN_OPTIONS },
    strict: true,
  });
  return {
    rounds: intOption("rounds", values.rounds, 5, 1, 20),
    requests: intOption("requests", values.requests, 2000, 100, 50_000),
    ...runOptions(values),
  };
}

/** A collector that takes every export (reads the body, answers 200) and counts spans. */
async function otlpSink(): Promise<{ url: string; spans: () => number }> {
  let spans = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans: () => spans };
}

interface Side {
  bare: Target;
  chain: Target;
  authed: Target;
  log: string;
}

async function side(scratch: string, name: string, text: Record<string, string>): Promise<Side> {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const s = await startServers(root, dir, join(root, "dist/index.js"), undefined, { queueSink: true, text });
  await createTenant(s.workerOrigin, s.adminToken, { slug: TENANT, name: TENANT, config: TENANT_CONFIG });
  const [user] = await registerUsers(s.workerOrigin, TENANT, ["ops"]);
  const base = { origin: s.workerOrigin, method: "GET" as const };
  return {
    bare: { ...base, name: `bare (${name})`, path: "/__bare", headers: {}, expect: { status: 200 } },
    chain: {
      ...base,
      name: `chain (${name})`,
      path: "/v1/time",
      headers: { "x-tenant": TENANT },
      expect: { status: 200, bodyIncludes: '"now"' },
    },
    authed: {
      ...base,
      name: `authed (${name})`,
      path: "/v1/me",
      headers: { "x-tenant": TENANT, authorization: `Bearer ${user!.accessToken}` },
      expect: { status: 200 },
    },
    log: s.workerdLog,
  };
}

async function main(): Promise<number> {
  const o = parse();
  const plan = { name: "ops", limitMs: 30 * 60_000, bundle: join(root, "dist/index.js") };
  return inScratch(root, o, plan, async (scratch) => {
    const load = loadNow();
    const sink = await otlpSink();
    const on = await side(scratch, "on", {
      TELEMETRY: "on",
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER_ARG: "1",
      METRICS_SHARDS: "4",
    });
    const off = await side(scratch, "off", { TELEMETRY: "off" });
    const keys = ["bare", "chain", "authed"] as const;
    const p50 = { on: { bare: [], chain: [], authed: [] }, off: { bare: [], chain: [], authed: [] } } as Record<
      "on" | "off",
      Record<(typeof keys)[number], number[]>
    >;
    for (let r = 0; r < o.rounds; r++) {
      // Interleaved in chunks by latency(); the sides' order swapped each round.
      const sides = r % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
      const targets = sides.flatMap((s) => keys.map((k) => (s === "on" ? on : off)[k]));
      const results = await latency(targets, o.requests);
      let i = 0;
      for (const s of sides) for (const k of keys) p50[s][k].push(results[i++]!.p50);
      progress(
        `round ${r + 1}/${o.rounds}: chain on ${p50.on.chain.at(-1)!.toFixed(3)} ms, off ${p50.off.chain.at(-1)!.toFixed(3)} ms`,
      );
    }
    const m = (s: "on" | "off", k: (typeof keys)[number]) => median(p50[s][k]);
    const ratio = (k: (typeof keys)[number]) => median(p50.on[k].map((v, i) => v / p50.off[k][i]!));
    const row = (k: (typeof keys)[number], label: string) =>
      `| ${label} | ${m("on", k).toFixed(3)} | ${m("off", k).toFixed(3)} | ${ratio(k).toFixed(2)}× | ${(m("on", k) / m("on", "bare")).toFixed(2)}× / ${(m("off", k) / m("off", "bare")).toFixed(2)}× |`;
    const lines = [
      `# Telemetry cost benchmark (${new Date().toISOString()})`,
      "",
      `Machine: ${JSON.stringify(machine(root, load, loadNow()))}`,
      "",
      `${o.rounds} rounds × ${o.requests} sequential requests per target, interleaved; medians of the per-round p50 (ms). On: TELEMETRY=on, every trace sampled, spans exported to a local OTLP sink (${sink.spans()} spans taken), metrics flushed to MetricsHub. Off: TELEMETRY=off.`,
      "",
      "| target | p50 on | p50 off | on / off | each / its bare floor (on / off) |",
      "|---|---|---|---|---|",
      row("bare", "bare route (floor)"),
      row("chain", "gateway chain, GET /v1/time"),
      row("authed", "authenticated read, GET /v1/me"),
      "",
      `Goal: chain on / off ≤ 1.10 — ${ratio("chain") <= 1.1 ? "met" : "not met"}.`,
      ...[...workerdWarnings(on.log), ...workerdWarnings(off.log)].map((w) => `- workerd: ${w}`),
      "",
    ];
    writeResults(root, "ops-", lines.join("\n"));
    return 0;
  });
}

runMain(main);
