/**
 * `npm run faults [-- --quick] [--no-build] [--bundle <file>] [--keep] [--no-docs]`
 *
 * Fault injection against the built bundle under raw workerd, next to the local libSQL server,
 * all on 127.0.0.1 (see stack.ts): while real HTTP and WebSocket load runs, workerd and the
 * libSQL server are each killed with SIGKILL and restarted on the same port and data, then a TCP
 * proxy between the Worker and the database delays, blackholes and resets connections. Then the
 * invariants are checked through the public and admin APIs and from storage, a summary is
 * printed, and the full run writes its figures into docs/reliability.md. Exits 1 when an
 * invariant fails (or the run does), 130 when interrupted. Every child process runs in its own
 * process group and is stopped on exit, failure or Ctrl-C; the run gives up after a watchdog.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { machine } from "../bench/machine";
import { ensureWebApps, killAllNow, runToCompletion, stopAll } from "../bench/processes";
import { drain, settleQueues } from "./drain";
import { Api, Journal } from "./http";
import { startLoad } from "./load/index";
import { staleRefreshProbe } from "./probes";
import { FULL, QUICK } from "./profiles";
import { markdown, passed, table, writeFigures, type RunSummary } from "./report";
import { runScenarios, scenarios } from "./scenarios";
import { startFaultStack, type FaultStack } from "./stack";
import { aiQuotas } from "./verify/ai";
import { verifyFromStorage, verifyThroughApi } from "./verify/index";
import { buildWorld, TENANT } from "./world";

const root = new URL("..", import.meta.url).pathname;
let stack: FaultStack | null = null;
let interrupted = false;
/** Removes the scratch directory when the run is interrupted (set once it exists, unless --keep). */
let dropScratch: () => void = () => undefined;

const t0 = Date.now();

function progress(msg: string): void {
  process.stderr.write(`faults: ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${msg}\n`);
}

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      "no-build": { type: "boolean", default: false },
      bundle: { type: "string" },
      keep: { type: "boolean", default: false },
      "no-docs": { type: "boolean", default: false },
    },
    strict: true,
  });
  return values;
}

/**
 * Builds the bundle into the scratch directory (not dist/, which other work may be rebuilding).
 * Unlike `npm run build` it does not regenerate src/db/migrations.gen.ts: the harness never
 * writes under src/; run `npm run migrations:bundle` first after changing migrations.
 */
function build(scratch: string): string {
  const out = join(scratch, "bundle");
  ensureWebApps(root, join(scratch, "build.log"));
  runToCompletion(
    join(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", out],
    root,
    join(scratch, "build.log"),
    300_000,
  );
  return join(out, "index.js");
}

async function main(): Promise<number> {
  const o = options();
  const profile = o.quick ? QUICK : FULL;
  const started = Date.now();
  const watchdog = setTimeout(() => {
    progress(`took longer than ${profile.watchdogMs / 1000} s: giving up`);
    void shutdown().finally(() => process.exit(1));
  }, profile.watchdogMs);
  watchdog.unref();
  const scratch = mkdtempSync(join(tmpdir(), "canopy-faults-"));
  if (!o.keep) dropScratch = () => rmSync(scratch, { recursive: true, force: true });
  progress(`${profile.name} run, scratch directory ${scratch}`);
  let ok = false;
  try {
    const bundle = o.bundle
      ? resolve(o.bundle)
      : o["no-build"]
        ? join(root, "dist/index.js")
        : (progress("building the bundle"), build(scratch));
    const s = await startFaultStack(root, scratch, bundle, { maxRetryDelayMs: profile.maxRetryDelayMs });
    stack = s;
    const journal = new Journal();
    const api = new Api(s.workerOrigin, TENANT, journal);
    progress("building the tenant, its users, friendships, conversations, TOTP and webhook");
    const world = await buildWorld(s.workerOrigin, s.adminToken, api, profile.world, s.receiverUrl, (secret) =>
      s.receiver.setSecret(secret),
    );
    const load = startLoad(api, world, `${s.workerOrigin.replace(/^http/, "ws")}/v1/realtime`, profile.load);
    // The minute cron, faster: sweeps and webhook retries run while the faults happen too.
    const cron = setInterval(() => void s.runCron(), 5000);
    const list = scenarios(o.quick);
    const probe = world.probe ? staleRefreshProbe(api, s, world.probe, Date.now() + profile.watchdogMs / 2) : null;
    const loadBefore = loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ");
    const windows = await runScenarios(s, list, profile.timing, progress);
    progress("stopping the load (operations in flight finish their retries)");
    await load.stop();
    // A quota read brings its object fresh facts (packs refunded meanwhile), which may cross a
    // warning level and emit `ai.quota.warning`: the quotas are read here, before the drain, so
    // the pipeline delivers what that emits, and never again after it.
    const quotas = await aiQuotas(api, world);
    clearInterval(cron);
    progress("draining queues, outboxes and webhook retries");
    const drained = await drain(s, api, profile.drainMaxMs, profile.drainMinMs, progress);
    const probeResult = probe ? await probe : null;
    progress("verifying through the API");
    const apiPhase = await verifyThroughApi(api, s.adminToken, world, load, quotas, o.quick ? 10_000 : 30_000);
    if (!(await settleQueues(s, 15_000))) progress("the queues did not settle after the verification's requests");
    // A request the load gave up on can still finish in workerd after the drain (one held by a
    // stalled database connection, say): its outbox rows are written then, and published after
    // its response or by the sweeper. Drain once more so storage is read after they went out.
    // With the first drain's minimum wait: Durable Object outboxes (a quota object's warnings, say)
    // publish from alarms the broker and the tenant outbox cannot show before they fire.
    const late = await drain(s, api, 30_000 + profile.drainMinMs, profile.drainMinMs, progress);
    if (!late.drained) progress("the outbox did not drain after the verification");
    const loadAfter = loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ");
    await s.close();
    stack = null;
    progress("verifying from storage");
    const { checks, perWindow } = verifyFromStorage({
      stack: s,
      world,
      load,
      api: apiPhase,
      journal,
      windows,
      probe: probeResult,
      subscribedAt: world.subscribedAt,
    });
    const summary: RunSummary = {
      profile: profile.name,
      command: o.quick ? "npm run faults -- --quick" : "npm run faults",
      machine: machine(root, loadBefore, loadAfter),
      durationS: (Date.now() - started) / 1000,
      scenarios: list,
      windows,
      perWindow,
      checks,
      harness: [
        `proxy: ${JSON.stringify(s.proxy.stats)}`,
        `restarts: workerd ${s.workerd.incarnations.length - 1}, libSQL server ${s.libsql.incarnations.length - 1}`,
        `drain: ${(drained.waitedMs / 1000).toFixed(0)} s, ${drained.cronRuns} cron runs, broker pending ${drained.brokerPending}, outbox unpublished ${drained.outboxUnpublished ?? "unknown"}`,
        `socket devices: ${load.senders.map((x) => `${x.counts.connects} connects`).join(", ")}`,
      ],
    };
    process.stdout.write(`\n${markdown(summary)}\n${table(summary)}`);
    if (profile.name === "full" && !o["no-docs"]) {
      writeFigures(join(root, "docs/reliability.md"), summary);
      progress("figures written to docs/reliability.md");
    }
    ok = true;
    const green = passed(summary);
    progress(
      green
        ? `all invariants hold (${summary.durationS.toFixed(0)} s)`
        : `INVARIANTS FAILED (${summary.durationS.toFixed(0)} s)`,
    );
    return green ? 0 : 1;
  } finally {
    await shutdown();
    if (ok && !o.keep) rmSync(scratch, { recursive: true, force: true });
    else if (!interrupted) progress(`logs and data kept in ${scratch}`);
  }
}

async function shutdown(): Promise<void> {
  const s = stack;
  stack = null;
  await s?.close().catch(() => undefined);
  await stopAll();
}

process.on("exit", killAllNow);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    interrupted = true;
    progress(`${sig}: stopping`);
    void shutdown()
      .then(() => dropScratch())
      .finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (interrupted) return;
    process.stderr.write(`faults failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void shutdown().finally(() => process.exit(1));
  },
);
