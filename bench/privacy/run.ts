/**
 * `npm run bench:privacy [-- --messages 100000 --rounds 3 --quick --no-build --keep]`
 *
 * Builds the bundle and the bench bundle (bench/privacy/entry.mts: the Worker plus
 * `POST /v1/__bench/export`), serves it with raw workerd next to the local libSQL server, sets up
 * tenant `privacy-a` with one user and writes `--messages` archived messages of theirs straight
 * into the tenant's file; then, in interleaved rounds, builds that user's data export through the
 * Worker (every kind read a page at a time, parts written to the bucket, one ZIP streamed into it;
 * raw workerd has no local R2, so the bucket is a workerd disk directory: see entry.mts) while sampling
 * workerd's resident memory, and the floor in-process: the same pages read from a copy of the
 * file with `libsql`, serialised the same way and written twice to disk (the parts and the
 * archive), which any export has to do. Reports medians, the ratio to the floor and the memory
 * the build added; writes bench/results/privacy-<timestamp>.md.
 */
import { createWriteStream, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "libsql";
import { registerUsers, userIdOf } from "../auth-users";
import { inScratch, runMain } from "../entry";
import { machine } from "../machine";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "../options";
import { loadNow, workerdWarnings, writeResults } from "../record";
import { buildBenchBundle, createTenant, progress, startServers } from "../servers";
import { TENANT_CONFIG } from "../stack";

const root = new URL("../..", import.meta.url).pathname;
const TENANT = "privacy-a";
const PAGE = 1000;
const PART_CHARS = 1 << 20;

interface Options extends RunOptions {
  messages: number;
  rounds: number;
}

function parse(): Options {
  const { values } = parseArgs({
    options: {
      messages: { type: "string" },
      rounds: { type: "string" },
      quick: { type: "boolean", default: false },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  const q = values.quick;
  return {
    messages: intOption("messages", values.messages, q ? 20_000 : 100_000, 100, 1_000_000),
    rounds: intOption("rounds", values.rounds, q ? 2 : 3, 1, 20),
    ...runOptions(values),
  };
}

/** Writes `n` archived text messages of the user into the tenant's file, in one transaction. */
function seed(file: string, userId: string, n: number): void {
  const db = new Database(file);
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    const insert =
      db.prepare(`INSERT INTO archived_messages (conversation_id, seq, id, sender_id, kind, body, text, sent_at)
      VALUES ('bench-conversation', ?, ?, ?, 'text', ?, ?, ?)`);
    const now = Date.now();
    db.exec("BEGIN");
    for (let i = 1; i <= n; i++) {
      const text = `message ${i}: the quick brown fox jumps over the lazy dog, again and again (${i % 97})`;
      insert.run([i, `bench-m-${i}`, userId, JSON.stringify({ text }), text, now - (n - i) * 1000]);
    }
    db.exec("COMMIT");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** workerd's resident memory in KiB (VmRSS), or NaN. */
function rssKb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    return Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

interface RouteRun {
  ms: number;
  size: number;
  rssBeforeKb: number;
  rssPeakKb: number;
}

/** One export built through the Worker, timed, with workerd's memory sampled every 20 ms. */
async function routeRun(origin: string, token: string, userId: string, pid: number | undefined): Promise<RouteRun> {
  const rssBeforeKb = rssKb(pid);
  let rssPeakKb = rssBeforeKb;
  const sampler = setInterval(() => {
    rssPeakKb = Math.max(rssPeakKb, rssKb(pid));
  }, 20);
  const t0 = performance.now();
  try {
    const res = await fetch(`${origin}/v1/__bench/export`, {
      method: "POST",
      headers: { "x-tenant": TENANT, authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ userId }),
      signal: AbortSignal.timeout(600_000),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    const out = JSON.parse(text) as { status: string | null; size: number | null; error: string | null };
    if (res.status !== 200 || out.status !== "ready") throw new Error(`export: ${res.status} ${text.slice(0, 300)}`);
    return { ms, size: out.size ?? 0, rssBeforeKb, rssPeakKb: Math.max(rssPeakKb, rssKb(pid)) };
  } finally {
    clearInterval(sampler);
  }
}

/** The floor: the same pages read in-process, serialised the same way, written as parts and as one archive. */
async function floorRun(file: string, userId: string, scratch: string): Promise<number> {
  const t0 = performance.now();
  const db = new Database(file, { readonly: true });
  const parts = join(scratch, "floor-parts");
  const archive = join(scratch, "floor-archive");
  try {
    const page = db.prepare(`SELECT rowid AS _r, conversation_id AS conversationId, seq, id, kind, body,
      sent_at AS sentAt, edited_at AS editedAt, recalled_at AS recalledAt FROM archived_messages
      WHERE sender_id = ? AND rowid > ? ORDER BY rowid LIMIT ?`);
    const out = createWriteStream(parts);
    let buf: string[] = ["[\n"];
    let chars = 2;
    let first = true;
    let after = 0;
    for (;;) {
      const rows = page.all([userId, after, PAGE]) as ({ _r: number } & Record<string, unknown>)[];
      for (const { _r, ...r } of rows) {
        const s = `${first ? "" : ",\n"}${JSON.stringify(r)}`;
        first = false;
        buf.push(s);
        chars += s.length;
        if (chars >= PART_CHARS) {
          out.write(buf.join(""));
          buf = [];
          chars = 0;
        }
        after = _r;
      }
      if (rows.length < PAGE) break;
    }
    buf.push("\n]\n");
    await new Promise<void>((resolve, reject) => out.end(buf.join(""), () => resolve()).on("error", reject));
    // The archive: the parts copied once more.
    const copy = createWriteStream(archive);
    await new Promise<void>((resolve, reject) => copy.end(readFileSync(parts), () => resolve()).on("error", reject));
    return performance.now() - t0;
  } finally {
    db.close();
    rmSync(parts, { force: true });
    rmSync(archive, { force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<number> {
  const o = parse();
  // The bench serves its own bundle (built below from this entry); `npm run build` still checks the production one.
  const plan = { name: "privacy", limitMs: 45 * 60_000, bundle: join(root, "bench/privacy/entry.mts") };
  return inScratch(root, o, plan, async (scratch) => {
    const load = loadNow();
    const bundle = buildBenchBundle(root, scratch, "bench/privacy/entry.mts");
    const servers = await startServers(root, scratch, bundle, undefined, { queueSink: true, blobDisk: true });
    progress(`creating tenant '${TENANT}' and one user`);
    const name = await createTenant(servers.workerOrigin, servers.adminToken, {
      slug: TENANT,
      name: TENANT,
      config: TENANT_CONFIG,
    });
    const file = join(scratch, "libsql", `${name}.db`);
    const [session] = await registerUsers(servers.workerOrigin, TENANT, ["exporter"]);
    const userId = userIdOf(session!.accessToken);
    progress(`writing ${o.messages} archived messages of the user`);
    seed(file, userId, o.messages);
    const floorFile = join(scratch, "floor.db");
    const copy = new Database(file, { readonly: true });
    copy.prepare("VACUUM INTO ?").run(floorFile);
    copy.close();

    const route: RouteRun[] = [];
    const floor: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      progress(`round ${r + 1}/${o.rounds}`);
      // Interleaved, the order swapped each round, so drift on the machine hits both alike.
      if (r % 2 === 0) {
        route.push(await routeRun(servers.workerOrigin, session!.accessToken, userId, servers.workerd().child.pid));
        floor.push(await floorRun(floorFile, userId, scratch));
      } else {
        floor.push(await floorRun(floorFile, userId, scratch));
        route.push(await routeRun(servers.workerOrigin, session!.accessToken, userId, servers.workerd().child.pid));
      }
    }
    const m = machine(root, load, loadNow());
    const routeMs = median(route.map((x) => x.ms));
    const floorMs = median(floor);
    const added = median(route.map((x) => x.rssPeakKb - x.rssBeforeKb));
    const lines = [
      `# Data export benchmark (${new Date().toISOString()})`,
      "",
      `Machine: ${JSON.stringify(m)}`,
      "",
      `One user with ${o.messages} archived messages (plus account, profile, settings, sessions: the other kinds are empty); ${o.rounds} rounds, interleaved; medians.`,
      "",
      "| | per round (ms) | median (ms) |",
      "|---|---|---|",
      `| export through the Worker (parts, then the ZIP streamed, into the bucket: a workerd disk directory standing in for R2) | ${route.map((x) => x.ms.toFixed(0)).join(", ")} | ${routeMs.toFixed(0)} |`,
      `| floor: the same pages read in-process with libsql, serialised, written twice | ${floor.map((x) => x.toFixed(0)).join(", ")} | ${floorMs.toFixed(0)} |`,
      `| ratio export / floor | | ${(routeMs / floorMs).toFixed(2)}× |`,
      "",
      `Archive: ${route[0]?.size ?? 0} bytes (${((route[0]?.size ?? 0) / 1048576).toFixed(1)} MiB), ${(o.messages / (routeMs / 1000)).toFixed(0)} messages/s.`,
      "",
      `workerd resident memory (VmRSS, sampled every 20 ms during each build): before ${route.map((x) => (x.rssBeforeKb / 1024).toFixed(0)).join(", ")} MiB; peak ${route.map((x) => (x.rssPeakKb / 1024).toFixed(0)).join(", ")} MiB; median added by a build ${(added / 1024).toFixed(1)} MiB.`,
      "",
      `Tenant file: ${(statSync(file).size / 1048576).toFixed(1)} MiB.`,
      ...workerdWarnings(servers.workerdLog).map((w) => `- workerd: ${w}`),
      "",
    ];
    writeResults(root, "privacy-", lines.join("\n"));
    return 0;
  });
}

runMain(main);
