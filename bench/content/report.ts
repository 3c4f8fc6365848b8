/**
 * The content benchmark's markdown: route vs floor per workload (ratios taken per round and
 * tenant, then the median over them, min–max as spread), the like bursts, the index's size, and
 * the engine's own time for each statement (no HTTP).
 */
import { median, type LatencyResult } from "../measure";
import { table } from "../markdown";
import type { Machine } from "../report";
import { PLANTED } from "./corpus";
import type { LikeBurst } from "./likes";
import type { SeedResult } from "./seed";
import { MAX_HITS, type Workload, WORKLOADS } from "./stack";

/** One round: per tenant, per workload, the route's and the floor's latency; the like bursts. */
export interface ContentRound {
  latency: Record<Workload, { route: LatencyResult; floor: LatencyResult }>[];
  likes: LikeBurst[];
}

/** In-process `libsql` time of each statement (ms, median of repeated runs), per tenant. */
export interface EngineTimes {
  candidates: Record<Workload, number>;
  guard: Record<string, number>;
  /** Documents each planted term matches (the guard's count). */
  hits: Record<string, number>;
}

export interface ContentSettings {
  posts: number;
  rounds: number;
  requests: number;
}

const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
const range = (xs: number[], f: (x: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const ratio = (x: number) => `${x.toFixed(2)}x`;
const mb = (b: number) => `${(b / 1_048_576).toFixed(1)} MiB`;

const LABEL: Record<Workload, string> = {
  rare: `search "${PLANTED[0]!.text}"`,
  medium: `search "${PLANTED[1]!.text}"`,
  common: `search "${PLANTED[2]!.text}"`,
  feed: "following feed (500 authors)",
};

/** Search: p50 ≤ 20 ms and ≤ 1.5x the floor; feed: p50 ≤ 1.5x the floor. */
function goal(w: Workload, routeP50us: number, p50Ratio: number): { text: string; met: boolean } {
  if (w === "feed") return { text: "p50 ≤ 1.5x floor", met: p50Ratio <= 1.5 };
  return { text: "p50 ≤ 20 ms and ≤ 1.5x floor", met: routeP50us <= 20_000 && p50Ratio <= 1.5 };
}

export function contentReport(
  rounds: ContentRound[],
  seeds: SeedResult[],
  engine: EngineTimes[],
  m: Machine,
  s: ContentSettings,
  notes: string[],
): { markdown: string; allGoalsMet: boolean } {
  let allGoalsMet = true;
  const cells = (w: Workload) => rounds.flatMap((r) => r.latency.map((t) => t[w]));
  const hitsOf = (w: Workload) =>
    w === "feed" ? "—" : engine.map((e) => e.hits[PLANTED.find((p) => p.key === w)!.text]).join(" / ");
  const main = WORKLOADS.map((w) => {
    const c = cells(w);
    const routeP50 = median(c.map((x) => x.route.p50));
    const p50Ratios = c.map((x) => x.route.p50 / x.floor.p50);
    const g = goal(w, routeP50, median(p50Ratios));
    allGoalsMet &&= g.met;
    return [
      LABEL[w],
      hitsOf(w),
      range(
        c.map((x) => x.route.p50),
        ms,
      ),
      ms(median(c.map((x) => x.route.p95))),
      range(
        c.map((x) => x.floor.p50),
        ms,
      ),
      ms(median(c.map((x) => x.floor.p95))),
      range(p50Ratios, ratio),
      ratio(median(c.map((x) => x.route.p95 / x.floor.p95))),
      g.text,
      g.met ? "pass" : "**FAIL**",
    ];
  });
  const bursts = rounds.flatMap((r) => r.likes);
  const exact = bursts.every((b) => b.ok === b.likers && b.likeCount === b.likers && b.likeRows === b.likers);
  allGoalsMet &&= exact;
  const failures = bursts.flatMap((b) => Object.entries(b.failures).map(([k, n]) => `${n}× ${k}`));
  const likes = [
    [
      String(bursts.length),
      `${bursts[0]?.likers ?? 0}`,
      bursts.map((b) => b.ok).join(", "),
      bursts.map((b) => b.likeCount).join(", "),
      exact ? "pass" : "**FAIL**",
      range(
        bursts.map((b) => b.ms * 1000),
        ms,
      ),
      range(
        bursts.map((b) => b.likesPerSecond),
        (x) => x.toFixed(0),
      ),
    ],
  ];
  const sizes = seeds.map((sd, i) => [
    String.fromCharCode(65 + i),
    sd.posts.toLocaleString("en-US"),
    mb(sd.ftsBytes),
    mb((sd.ftsBytes * 1e6) / sd.posts),
    mb(sd.docsBytes),
    mb((sd.docsBytes * 1e6) / sd.posts),
    mb(sd.fileBytes),
    `${sd.seconds.total.toFixed(0)} s`,
  ]);
  const engineRows = WORKLOADS.map((w) => [
    LABEL[w],
    engine.map((e) => e.candidates[w].toFixed(2)).join(" / "),
    w === "feed" ? "—" : engine.map((e) => e.guard[w]!.toFixed(2)).join(" / "),
  ]);
  const markdown = [
    `## Content benchmark: ${s.posts.toLocaleString("en-US")} posts per tenant, 2 tenants`,
    "",
    `Machine: ${m.nproc} CPUs (${m.cpu}), Node ${m.node}, ${m.workerd}, commit ${m.commit}; load average (1/5/15 min) before ${m.load}, after ${m.loadAfter}. Date ${m.date}.`,
    `Settings: ${s.rounds} rounds, ${s.requests} timed requests per target per round and tenant (chunks of 10, interleaved), search.maxHits ${MAX_HITS}.`,
    "",
    "Latency: median over rounds × tenants of each target's p50 and p95 (ms), min–max in brackets; ratio = route / floor taken per round and tenant, then the median.",
    "",
    table(
      [
        "workload",
        "hits (A / B)",
        "route p50",
        "route p95",
        "floor p50",
        "floor p95",
        "p50 ratio",
        "p95 ratio",
        "goal",
        "result",
      ],
      main,
    ),
    "",
    "Concurrent likes: all likers of a burst send `PUT /v1/posts/{id}/like` at once, one burst per tenant per round, each on a fresh post.",
    "",
    table(["bursts", "likers", "200s per burst", "like_count after", "exact", "burst time ms", "likes/s"], likes),
    "",
    "Search index size (dbstat): `search_fts` shadow tables, and `search_docs` with its indexes.",
    "",
    table(
      ["tenant", "posts", "FTS", "FTS per 1M posts", "search_docs", "search_docs per 1M", "file", "seeding"],
      sizes,
    ),
    "",
    "The engine alone: the same statements in the harness's process with `libsql`, no HTTP (ms, median of 10 runs; tenant A / B).",
    "",
    table(["workload", "candidate query (the floor's SQL)", "query-too-broad guard (matchCount)"], engineRows),
    "",
    ...(failures.length > 0 ? [`- failed likes: ${failures.slice(0, 10).join("; ")}`] : []),
    ...notes.map((n) => `- ${n}`),
    "",
    `Goals: ${allGoalsMet ? "all met" : "NOT all met"}.`,
    "",
  ].join("\n");
  return { markdown, allGoalsMet };
}
