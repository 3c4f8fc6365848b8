/**
 * `npm run bench:content [-- --posts 1000000 --rounds 5 --requests 40 --no-build --keep]`
 *
 * Builds the bundle, serves it with raw workerd next to the local libSQL server, creates two
 * tenants, seeds each with `--posts` generated posts (Chinese and Latin words; three planted
 * terms of ~100, ~1,000 and ~15,000 hits) straight into its database file, and measures in
 * interleaved rounds, against the same SQL run in-process on `libsql` (floor.ts):
 * `GET /v1/search` top-20 for the three terms, `GET /v1/feeds/following` for a viewer following
 * 500 authors, and 100 concurrent likes of one post; then reports the search index's size.
 * Prints markdown and writes it to bench/results/content-<timestamp>.md.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "libsql";
import { inScratch, runMain } from "../entry";
import { machine } from "../machine";
import { latency, median, send, warmUp, type Target } from "../measure";
import { stopAll } from "../processes";
import { progress } from "../servers";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "../options";
import { roundsUnderLoad, workerdWarnings, writeResults } from "../record";
import { PLANTED } from "./corpus";
import { likeBurst } from "./likes";
import { contentReport, type ContentRound, type EngineTimes } from "./report";
import { type ContentStack, likeablePosts, startContentStack, type Workload, WORKLOADS } from "./stack";
import { Agent } from "node:http";

const root = new URL("../..", import.meta.url).pathname;

interface Options extends RunOptions {
  posts: number;
  rounds: number;
  requests: number;
}

function parse(): Options {
  const { values } = parseArgs({
    options: {
      posts: { type: "string" },
      rounds: { type: "string" },
      requests: { type: "string" },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  const posts = intOption("posts", values.posts, 1_000_000, 2_000, 5_000_000);
  // corpus.ts spreads the planted terms with i ↦ i·7919 mod posts, a permutation only when 7919 ∤ posts.
  if (posts % 7919 === 0) throw new Error("--posts must not be a multiple of 7919");
  return {
    posts,
    rounds: intOption("rounds", values.rounds, 5, 1, 20),
    requests: intOption("requests", values.requests, 40, 10, 1_000),
    ...runOptions(values),
  };
}

/** The engine's own time per statement: median of 10 runs after one, in this process. */
function engineTimes(stack: ContentStack): EngineTimes[] {
  return stack.tenants.map((t) => {
    const db = new Database(t.file, { readonly: true });
    try {
      const time = (sql: string, params: unknown[]) => {
        const st = db.prepare(sql).raw(true);
        let out: unknown[] = st.all(...(params as never[])) as unknown[];
        const xs: number[] = [];
        for (let i = 0; i < 10; i++) {
          const t0 = performance.now();
          out = st.all(...(params as never[])) as unknown[];
          xs.push(performance.now() - t0);
        }
        return { ms: median(xs), out };
      };
      const candidates = {} as Record<Workload, number>;
      for (const w of WORKLOADS) candidates[w] = time(t.statements[w].sql, t.statements[w].params).ms;
      const guard: Record<string, number> = {};
      const hits: Record<string, number> = {};
      for (const p of PLANTED) {
        const g = time(t.guards[p.key].sql, t.guards[p.key].params);
        guard[p.key] = g.ms;
        hits[p.text] = Number((g.out[0] as unknown[])[0]);
      }
      return { candidates, guard, hits };
    } finally {
      db.close();
    }
  });
}

/** Every liker calls whoami once: their token is verified and cached and their hub is awake, as for users online. */
async function warmLikers(stack: ContentStack): Promise<void> {
  for (const t of stack.tenants)
    await Promise.all(
      t.likers.map(async (u) => {
        const agent = new Agent({ keepAlive: false });
        try {
          const r = await send(
            agent,
            {
              name: "whoami",
              origin: stack.workerOrigin,
              method: "GET",
              path: "/v1/auth/whoami",
              headers: { "x-tenant": t.slug, authorization: `Bearer ${u.accessToken}` },
            },
            30_000,
          );
          if (r.status !== 200) throw new Error(`whoami of ${u.username}: ${r.status} ${r.body.slice(0, 200)}`);
        } finally {
          agent.destroy();
        }
      }),
    );
}

async function round(stack: ContentStack, i: number, s: Options, likePosts: string[][]): Promise<ContentRound> {
  const targets: Target[] = [];
  for (const t of stack.tenants) for (const w of WORKLOADS) targets.push(t.targets[w].route, t.targets[w].floor);
  const ordered = i % 2 === 1 ? [...targets].reverse() : targets;
  const results = await latency(ordered, s.requests, 10, 3);
  const byName = new Map(ordered.map((t, k) => [t, results[k]!]));
  const lat = stack.tenants.map((t) => {
    const out = {} as ContentRound["latency"][number];
    for (const w of WORKLOADS)
      out[w] = { route: byName.get(t.targets[w].route)!, floor: byName.get(t.targets[w].floor)! };
    return out;
  });
  const likes = [];
  const tenants = i % 2 === 1 ? [...stack.tenants.keys()].reverse() : [...stack.tenants.keys()];
  for (const k of tenants) {
    const t = stack.tenants[k]!;
    likes.push(await likeBurst(stack.workerOrigin, t.slug, t.file, likePosts[k]![i]!, t.likers));
  }
  return { latency: lat, likes };
}

function summary(r: ContentRound): string {
  const parts = WORKLOADS.map((w) => {
    const c = r.latency.map((t) => t[w]);
    return `${w} ${c.map((x) => `${(x.route.p50 / 1000).toFixed(1)}/${(x.floor.p50 / 1000).toFixed(1)}`).join(" ")} ms`;
  });
  return `${parts.join("; ")}; likes ${r.likes.map((l) => `${l.likeCount} in ${l.ms.toFixed(0)} ms`).join(", ")}`;
}

async function main(): Promise<number> {
  const s = parse();
  // Bounded whatever happens: build, seeding (~4 min per million posts on 2 shared cores), rounds.
  const limitMs = (600 + (s.posts / 1e6) * 900 + s.rounds * (60 + s.requests * 16 * 0.5)) * 1000;
  const bundle = join(root, "dist/index.js");
  return inScratch(root, s, { name: "content-", limitMs, bundle }, async (scratch) => {
    const stack = await startContentStack(root, scratch, bundle, s.posts);
    for (const t of stack.tenants) progress(`${t.slug}: seeded ${JSON.stringify(t.seed)}`);
    const likePosts = stack.tenants.map((t) => likeablePosts(t.file, s.rounds));

    progress("warming up: 20 requests per target, one whoami per liker");
    for (const t of stack.tenants)
      for (const w of WORKLOADS) {
        await warmUp(t.targets[w].route, 20);
        await warmUp(t.targets[w].floor, 20);
      }
    await warmLikers(stack);

    const { rounds, load, loadAfter } = await roundsUnderLoad(s.rounds, (i) => round(stack, i, s, likePosts), summary);
    progress("timing the statements in-process");
    const engine = engineTimes(stack);
    await stopAll();

    const notes = workerdWarnings(stack.workerdLog);
    if (rounds.some((r) => r.latency.some((t) => WORKLOADS.some((w) => t[w].route.bad + t[w].floor.bad > 0))))
      notes.push("some requests answered an unexpected status: the figures of those targets are suspect.");
    const { markdown, allGoalsMet } = contentReport(
      rounds,
      stack.tenants.map((t) => t.seed),
      engine,
      machine(root, load, loadAfter),
      s,
      notes,
    );
    writeResults(root, "content-", markdown);
    return allGoalsMet || !s.strict ? 0 : 3;
  });
}

runMain(main);
