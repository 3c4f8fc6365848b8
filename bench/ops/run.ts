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
 * medians of the per-round p50s and the ratios; writes bench/results/ops-<timestamp>.md. Two more
 * sides tell the costs apart: 5 % of traces sampled (a production setting), and metrics only
 * (TELEMETRY=on, no collector).
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
    const sampled = await side(scratch, "sampled", {
      TELEMETRY: "on",
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER_ARG: "0.05",
      METRICS_SHARDS: "4",
    });
    const metricsOnly = await side(scratch, "metrics", { TELEMETRY: "on", METRICS_SHARDS: "4" });
    const off = await side(scratch, "off", { TELEMETRY: "off" });
    const keys = ["bare", "chain", "authed"] as const;
    type SideName = "on" | "sampled" | "metrics" | "off";
    const bySide: Record<SideName, Side> = { on, sampled, metrics: metricsOnly, off };
    const p50 = Object.fromEntries(
      (["on", "sampled", "metrics", "off"] as const).map((n) => [n, { bare: [], chain: [], authed: [] }]),
    ) as unknown as Record<SideName, Record<(typeof keys)[number], number[]>>;
    const orders: SideName[][] = [
      ["on", "sampled", "metrics", "off"],
      ["off", "metrics", "sampled", "on"],
      ["sampled", "off", "on", "metrics"],
      ["metrics", "on", "off", "sampled"],
    ];
    for (let r = 0; r < o.rounds; r++) {
      // Interleaved in chunks by latency(); the sides' order rotated each round.
      const sides = orders[r % orders.length]!;
      const targets = sides.flatMap((s) => keys.map((k) => bySide[s][k]));
      const results = await latency(targets, o.requests);
      let i = 0;
      for (const s of sides) for (const k of keys) p50[s][k].push(results[i++]!.p50);
      progress(
        `round ${r + 1}/${o.rounds}: chain p50 on ${p50.on.chain.at(-1)!.toFixed(0)} µs, 5 % ${p50.sampled.chain.at(-1)!.toFixed(0)} µs, metrics only ${p50.metrics.chain.at(-1)!.toFixed(0)} µs, off ${p50.off.chain.at(-1)!.toFixed(0)} µs`,
      );
    }
    const m = (s: SideName, k: (typeof keys)[number]) => median(p50[s][k]);
    const ratio = (s: SideName, k: (typeof keys)[number]) => median(p50[s][k].map((v, i) => v / p50.off[k][i]!));
    const row = (k: (typeof keys)[number], label: string) =>
      `| ${label} | ${m("on", k).toFixed(0)} | ${m("sampled", k).toFixed(0)} | ${m("metrics", k).toFixed(0)} | ${m("off", k).toFixed(0)} | ${ratio("on", k).toFixed(2)}× | ${ratio("sampled", k).toFixed(2)}× | ${ratio("metrics", k).toFixed(2)}× |`;
    const lines = [
      `# Telemetry cost benchmark (${new Date().toISOString()})`,
      "",
      `Machine: ${JSON.stringify(machine(root, load, loadNow()))}`,
      "",
      `${o.rounds} rounds × ${o.requests} sequential requests per target, interleaved; medians of the per-round p50 (µs). On: TELEMETRY=on, every trace sampled, spans exported to a local OTLP sink (${sink.spans()} spans taken), metrics flushed to MetricsHub. Sampled: the same with OTEL_TRACES_SAMPLER_ARG=0.05 (a production setting). Metrics only: TELEMETRY=on, no collector. Off: TELEMETRY=off. Ratios are medians of the per-round ratios to off.`,
      "",
      "| target | p50 on (all traces) | p50 on (5 % of traces) | p50 metrics only | p50 off | all / off | 5 % / off | metrics only / off |",
      "|---|---|---|---|---|---|---|---|",
      row("bare", "bare route (floor)"),
      row("chain", "gateway chain, GET /v1/time"),
      row("authed", "authenticated read, GET /v1/me"),
      "",
      `Goal: chain on / off ≤ 1.10 — ${ratio("on", "chain") <= 1.1 ? "met" : "not met"} (${ratio("on", "chain").toFixed(2)}×).`,
      `With 5 % of traces sampled: ${ratio("sampled", "chain").toFixed(2)}×; metrics alone: ${ratio("metrics", "chain").toFixed(2)}×.`,
      ...[on, sampled, metricsOnly, off].flatMap((x) => workerdWarnings(x.log)).map((w) => `- workerd: ${w}`),
      "",
    ];
    writeResults(root, "ops-", lines.join("\n"));
    return 0;
  });
}

runMain(main);
