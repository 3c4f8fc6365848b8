/**
 * The realtime benchmark's markdown: the comparison with the bare Durable Object (ratios taken
 * within each round, median over rounds, min–max as spread, goals from issue 18), the raw figures
 * per target, the fills of the sockets-held test, and the soak's counts.
 */
import { table } from "../markdown";
import type { Machine } from "../report";
import { median } from "../measure";
import { TABS_PER_USER, type HeldResult } from "./held";
import type { Quantiles, Samples } from "./latency";
import { quantiles } from "./latency";
import { type BurstResult, burstMet } from "./burst";
import { type UpgradeRates, upgradeLines } from "./upgrades";
import type { SoakResult } from "./soak";
import { scalingLines } from "./scaling";

/** One target's figures in one round (quantiles in µs). */
export interface Summary {
  delivery: Quantiles;
  last: Quantiles;
  ack: Quantiles;
  timeouts: number;
  missing: number;
  errors: number;
  firstError?: string;
}

export function summarize(s: Samples): Summary {
  return {
    delivery: quantiles(s.delivery),
    last: quantiles(s.last),
    ack: quantiles(s.ack),
    timeouts: s.timeouts,
    missing: s.missing,
    errors: s.errors,
    ...(s.firstError === undefined ? {} : { firstError: s.firstError }),
  };
}

export interface LatencyRound {
  oneToOne: { canopy: Summary; echo: Summary; relay: Summary; stored: Summary; arch: Summary };
  fanOut: Map<number, { canopy: Summary; bare: Summary; arch: Summary }>;
  /** The large group with few members online, and the group of as many members, all online. */
  sparse?: { canopy: Summary; dense: Summary };
  /** The harness's own event loop: its longest stall during the round (ms), to rule out client pauses. */
  clientMaxDelayMs: number;
}

/** Send → last recipient (µs) in the largest group and its bare room, after 20 s without traffic. */
export interface ColdSample {
  canopy: number;
  bare: number;
  /** The bare hubs: a log object and N − 1 hub objects, woken the same way. */
  arch: number;
}

export interface HeldRound {
  /** Each user's sockets opened together, then idle (hubs hibernate): the issue's figure. */
  canopy: HeldResult;
  /** Sockets spread over the users in turn: every hub stays awake. */
  canopySpread: HeldResult;
  /** The issue's baseline: one bare object holding every socket. */
  bare: HeldResult;
  /** Bare rooms as many as Canopy's users (the same number of Durable Objects). */
  bareSpread: HeldResult;
}

export interface RealtimeSettings {
  rounds: number;
  heldRounds: number;
  messages: number;
  fanMessages: number;
  users: number;
  pairs: number;
  sizes: number[];
  heldUsers: number;
  /** Measure the cold samples (after 20 s idle) after the rounds. */
  cold: boolean;
  /** A group of `members` of whom only `online` have a socket (null: not measured). */
  sparse: { members: number; online: number } | null;
}

interface Row {
  metric: string;
  /** (candidate, baseline) per round. */
  values: [number, number][];
  unit: "ms" | "sockets" | "KiB";
  maxRatio?: number;
  minRatio?: number;
  /** Candidate's median must also stay under this (ms). */
  maxMs?: number;
}

const fmt = (v: number, unit: Row["unit"]): string =>
  unit === "ms" ? `${(v / 1000).toFixed(2)} ms` : unit === "KiB" ? `${v.toFixed(1)} KiB` : `${Math.round(v)}`;

function spread(vals: number[], f: (v: number) => string): string {
  return `${f(median(vals))} (${f(Math.min(...vals))}–${f(Math.max(...vals))})`;
}

function compare(rows: Row[]): { lines: string[][]; met: boolean } {
  let met = true;
  const lines = rows.map((r) => {
    const ratios = r.values.map(([c, b]) => c / b);
    const ratio = median(ratios);
    const cand = median(r.values.map(([c]) => c));
    const goals: string[] = [];
    let ok = true;
    if (r.maxRatio !== undefined) {
      goals.push(`≤ ${r.maxRatio.toFixed(1)}x`);
      ok &&= ratio <= r.maxRatio;
    }
    if (r.minRatio !== undefined) {
      goals.push(`≥ ${r.minRatio.toFixed(1)}x`);
      ok &&= ratio >= r.minRatio;
    }
    if (r.maxMs !== undefined) {
      goals.push(`< ${r.maxMs} ms`);
      ok &&= cand / 1000 < r.maxMs;
    }
    const hasGoal = goals.length > 0;
    if (hasGoal && !ok) met = false;
    return [
      r.metric,
      fmt(cand, r.unit),
      fmt(median(r.values.map(([, b]) => b)), r.unit),
      `${ratio.toFixed(2)}x`,
      `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      hasGoal ? goals.join(", ") : "—",
      hasGoal ? (ok ? "pass" : "**FAIL**") : "",
    ];
  });
  return { lines, met };
}

function rows(lat: LatencyRound[], cold: ColdSample[], held: HeldRound[], s: RealtimeSettings): Row[] {
  const one = (pick: (r: LatencyRound) => [Summary, Summary], q: (x: Summary) => number): [number, number][] =>
    lat.map((r) => pick(r)).map(([c, b]) => [q(c), q(b)]);
  const echo = (r: LatencyRound): [Summary, Summary] => [r.oneToOne.canopy, r.oneToOne.echo];
  const relay = (r: LatencyRound): [Summary, Summary] => [r.oneToOne.canopy, r.oneToOne.relay];
  const stored = (r: LatencyRound): [Summary, Summary] => [r.oneToOne.canopy, r.oneToOne.stored];
  const arch = (r: LatencyRound): [Summary, Summary] => [r.oneToOne.canopy, r.oneToOne.arch];
  const out: Row[] = [];
  if (held.length > 0) {
    const u = s.heldUsers;
    out.push(
      {
        metric: `sockets held by one workerd process (Canopy: ${u} users, ${TABS_PER_USER} sockets each opened together, then idle) vs one bare object`,
        values: held.map((h) => [h.canopy.held, h.bare.held]),
        unit: "sockets",
        minRatio: 0.9,
      },
      {
        metric: "memory per socket (workerd RSS growth / sockets) vs one bare object",
        values: held.map((h) => [h.canopy.perSocketKb, h.bare.perSocketKb]),
        unit: "KiB",
        maxRatio: 1.2,
      },
      {
        metric: `sockets held, Canopy's sockets to the ${u} users in turn (every hub awake) vs bare over ${u} rooms in turn`,
        values: held.map((h) => [h.canopySpread.held, h.bareSpread.held]),
        unit: "sockets",
      },
      {
        metric: "memory per socket, every hub awake vs bare over as many rooms",
        values: held.map((h) => [h.canopySpread.perSocketKb, h.bareSpread.perSocketKb]),
        unit: "KiB",
      },
    );
  }
  if (lat.length === 0) return out;
  out.push(
    {
      metric: "1:1 p50: send → peer's `message` vs bare hub → log → hub (the architecture's floor)",
      values: one(arch, (x) => x.delivery.p50),
      unit: "ms",
      maxRatio: 1.3,
    },
    { metric: "1:1 p99 vs bare hub → log → hub", values: one(arch, (x) => x.delivery.p99), unit: "ms", maxRatio: 1.5 },
    { metric: "1:1 p50 vs bare echo", values: one(echo, (x) => x.delivery.p50), unit: "ms" },
    { metric: "1:1 p99 vs bare echo", values: one(echo, (x) => x.delivery.p99), unit: "ms" },
    { metric: "1:1 p50 vs bare relay (to another socket)", values: one(relay, (x) => x.delivery.p50), unit: "ms" },
    { metric: "1:1 p99 vs bare relay", values: one(relay, (x) => x.delivery.p99), unit: "ms" },
    {
      metric: "1:1 p50 vs bare stored echo (one SQLite insert, then echo)",
      values: one(stored, (x) => x.delivery.p50),
      unit: "ms",
    },
    { metric: "1:1 p99 vs bare stored echo", values: one(stored, (x) => x.delivery.p99), unit: "ms" },
    {
      metric: "1:1 `ack` p50 vs bare echo",
      values: lat.map((r) => [r.oneToOne.canopy.ack.p50, r.oneToOne.echo.delivery.p50]),
      unit: "ms",
    },
  );
  if (cold.length > 0) {
    const n = Math.max(...s.sizes);
    out.push(
      {
        metric: `fan-out to ${n} after 20 s idle (hibernated), last recipient (${cold.length} samples)`,
        values: cold.map((c) => [c.canopy, c.bare]),
        unit: "ms",
      },
      {
        metric: `fan-out to ${n} after 20 s idle vs bare hubs (${n - 1} hibernated hub objects woken)`,
        values: cold.map((c) => [c.canopy, c.arch]),
        unit: "ms",
      },
    );
  }
  for (const n of s.sizes) {
    const fan = (r: LatencyRound): [Summary, Summary] => {
      const f = r.fanOut.get(n);
      if (!f) throw new Error(`no fan-out figures for ${n}`);
      return [f.canopy, f.bare];
    };
    const floor = (r: LatencyRound): [Summary, Summary] => {
      const f = r.fanOut.get(n);
      if (!f) throw new Error(`no fan-out figures for ${n}`);
      return [f.canopy, f.arch];
    };
    // The goals name the group of 1,000; other sizes show how the figures scale.
    const goal = (ratio: number) => (n === 1000 ? { maxRatio: ratio } : {});
    out.push(
      {
        metric: `fan-out to ${n} members, p99 per delivery vs one bare room broadcasting`,
        values: one(fan, (x) => x.delivery.p99),
        unit: "ms",
        ...goal(2),
      },
      { metric: `fan-out to ${n}, p50 per delivery`, values: one(fan, (x) => x.delivery.p50), unit: "ms" },
      {
        metric: `fan-out to ${n}, last recipient p50 vs one bare room broadcasting`,
        values: one(fan, (x) => x.last.p50),
        unit: "ms",
        ...goal(2),
      },
      {
        metric: `fan-out to ${n}, p99 vs bare hubs (log → ${n - 1} hub objects)`,
        values: one(floor, (x) => x.delivery.p99),
        unit: "ms",
      },
      { metric: `fan-out to ${n}, last recipient p50 vs bare hubs`, values: one(floor, (x) => x.last.p50), unit: "ms" },
    );
  }
  const sp = s.sparse;
  if (sp && lat.every((r) => r.sparse))
    out.push({
      metric: `group of ${sp.members} members with ${sp.online} online, last recipient p50 vs the group of ${sp.online} (all online)`,
      values: lat.map((r) => [r.sparse!.canopy.last.p50, r.sparse!.dense.last.p50]),
      unit: "ms",
      maxRatio: 1.2,
    });
  return out;
}

function targetRows(lat: LatencyRound[], s: RealtimeSettings): string[][] {
  if (lat.length === 0) return [];
  const ms = (v: number) => (v / 1000).toFixed(2);
  const line = (label: string, get: (r: LatencyRound) => Summary, ack = false): string[] => {
    const xs = lat.map(get);
    const q = (k: "p50" | "p90" | "p99") =>
      spread(
        xs.map((x) => x.delivery[k]),
        ms,
      );
    const errors = xs.reduce((n, x) => n + x.timeouts + x.errors, 0);
    const first = xs.find((x) => x.firstError)?.firstError;
    return [
      label,
      String(xs.reduce((n, x) => n + x.delivery.n, 0)),
      q("p50"),
      q("p90"),
      q("p99"),
      spread(
        xs.map((x) => x.last.p50),
        ms,
      ),
      ack
        ? spread(
            xs.map((x) => x.ack.p50),
            ms,
          )
        : "—",
      `${errors}${first ? ` (${first})` : ""}`,
    ];
  };
  const rowsOut = [
    line("Canopy 1:1 (direct conversation, friends)", (r) => r.oneToOne.canopy, true),
    line("bare echo", (r) => r.oneToOne.echo),
    line("bare relay (room of 2)", (r) => r.oneToOne.relay),
    line("bare stored echo (SQLite insert, then echo)", (r) => r.oneToOne.stored),
    line("bare hub → log → hub (pairs)", (r) => r.oneToOne.arch),
  ];
  if (s.sparse && lat.every((r) => r.sparse))
    rowsOut.push(line(`Canopy group of ${s.sparse.members}, ${s.sparse.online} online`, (r) => r.sparse!.canopy, true));
  for (const n of s.sizes) {
    rowsOut.push(
      line(`Canopy group of ${n}`, (r) => r.fanOut.get(n)!.canopy, true),
      line(`bare broadcast, room of ${n}`, (r) => r.fanOut.get(n)!.bare),
      line(`bare hubs, log → ${n - 1} hub objects`, (r) => r.fanOut.get(n)!.arch),
    );
  }
  return rowsOut;
}

function heldRows(held: HeldRound[]): string[][] {
  const line = (label: string, xs: HeldResult[]): string[] => [
    label,
    spread(
      xs.map((x) => x.held),
      (v) => String(Math.round(v)),
    ),
    xs
      .map((x) => x.stop)
      .filter((v, i, a) => a.indexOf(v) === i)
      .slice(0, 2)
      .join("; "),
    spread(
      xs.map((x) => x.perSocketKb),
      (v) => v.toFixed(1),
    ),
    spread(
      xs.map((x) => x.fdsPerSocket),
      (v) => v.toFixed(2),
    ),
    spread(
      xs.map((x) => x.rate),
      (v) => String(Math.round(v)),
    ),
    xs.map((x) => x.retried).join(", "),
    xs.map((x) => (x.crashed ? "exited" : `${x.alive}/${x.held}`)).join(", "),
  ];
  return [
    line(
      `Canopy \`GET /v1/realtime\`, each user's ${TABS_PER_USER} sockets together, then idle`,
      held.map((h) => h.canopy),
    ),
    line(
      "bare echo, one room",
      held.map((h) => h.bare),
    ),
    line(
      "Canopy, sockets to the users in turn (every hub awake)",
      held.map((h) => h.canopySpread),
    ),
    line(
      "bare echo, as many rooms as Canopy's users, in turn",
      held.map((h) => h.bareSpread),
    ),
  ];
}

/** The burst goal's table: sends at once on a fresh socket, then retries of the refused ones. */
function burstLines(bursts: BurstResult[]): string[] {
  return [
    "Burst: sends at once on a fresh socket (the tenant's defaults: 20 frames a second, bursts of 100); refused sends sent again after their `retryAfterMs` until acked. Goal: 0 closes; every send acked or refused with `rate_limited` (naming its clientId), then all stored.",
    "",
    table(
      [
        "sends at once",
        "acked at the end",
        "refused at first",
        "refusals without clientId",
        "closes",
        "retry rounds",
        "distinct seqs",
        "ms",
        "result",
      ],
      bursts.map((b) => [
        String(b.size),
        String(b.acked),
        String(b.refused),
        String(b.refusedWithoutClientId),
        String(b.closes),
        String(b.retryRounds),
        String(b.stored),
        String(b.ms),
        burstMet(b) ? "met" : "missed",
      ]),
    ),
  ];
}

/** Zero lost, zero duplicated, and the log and acks consistent with what was sent. */
export function soakMet(r: SoakResult): boolean {
  const c = r.counts;
  return (
    r.lost === 0 &&
    c.duplicates === 0 &&
    r.logDuplicates === 0 &&
    r.logMissing === 0 &&
    r.logGaps === 0 &&
    r.ackWrong === 0 &&
    c.ackMismatches === 0
  );
}

function soakLines(r: SoakResult): string[] {
  const c = r.counts;
  const o = r.options;
  const rec = (x: Record<string, number>) =>
    Object.keys(x).length
      ? Object.entries(x)
          .map(([k, v]) => `${v}× ${k}`)
          .join(", ")
      : "0";
  const met = soakMet(r);
  return [
    `Soak: ${o.clients} devices (one user each) in ${o.groups} groups (each device in ${Math.max(1, o.groups - 1)}), ${o.seconds} s; a send every ${o.sendEveryMs} ms on average per device, ` +
      `a drop every ${o.dropEveryMs} ms on average (half abrupt, half a normal close; one reconnection in ten dropped again within 20 ms, mid-sync), offline up to ${o.maxOfflineMs} ms.`,
    "",
    table(
      ["what", "count"],
      [
        ["messages on the logs / sent / acks received", `${r.messages} / ${c.sent} / ${c.acks}`],
        ["deliveries expected (every member, every message of its groups)", String(r.expected)],
        ["connections / drops / failed connection attempts", `${c.connects} / ${c.drops} / ${r.failedConnects}`],
        ["**lost**: (device, conversation, seq) never received, after the final sync", `**${r.lost}**`],
        ["**duplicated**: a seq a socket had already delivered, or at/below its sync cursor", `**${c.duplicates}**`],
        [
          "log: sent clientIds missing / stored twice / seqs not 1…n",
          `${r.logMissing} / ${r.logDuplicates} / ${r.logGaps}`,
        ],
        [
          "acks with another seq than the log's, or than an earlier ack of the same clientId",
          `${r.ackWrong} / ${c.ackMismatches}`,
        ],
        ["re-delivered because the device's cursor (below a gap) asked again", String(c.askedAgain)],
        ["out of order on one socket: before its `synced` / after", `${c.outOfOrderBeforeSynced} / ${c.outOfOrder}`],
        ["`sync_truncated` received / ranges paged over HTTP", `${c.truncated} / ${r.paged}`],
        [
          "message frames after the device closed the socket (ignored) / duplicates among them",
          `${c.afterClose} / ${c.duplicatesAfterClose}`,
        ],
        ["error frames; closes by the server", `${rec(c.errors)}; ${rec(c.serverCloses)}`],
      ],
    ),
    "",
    `Soak goal (zero lost, zero duplicated, log and acks consistent): ${met ? "met" : "**NOT met**"}.`,
  ];
}

export function report(
  lat: LatencyRound[],
  cold: ColdSample[],
  held: HeldRound[],
  soakResult: SoakResult | null,
  bursts: BurstResult[],
  upgrades: UpgradeRates | null,
  m: Machine,
  s: RealtimeSettings,
  notes: string[],
) {
  const { lines, met } = compare(rows(lat, cold, held, s));
  const allGoalsMet = met && (soakResult === null || soakMet(soakResult)) && bursts.every(burstMet);
  const markdown = [
    `## Canopy realtime benchmark, ${m.date}`,
    "",
    `Machine: ${m.nproc} CPUs (${m.cpu}), Node ${m.node}, ${m.workerd}, commit ${m.commit}; load average (1/5/15 min) before ${m.load}, after ${m.loadAfter}.`,
    `Method: one workerd process serves the built bundle and the bare hibernating Durable Object (a second service); Node \`ws\` clients on 127.0.0.1–4. ` +
      `Latency: ${s.rounds} rounds, each with ${s.messages} messages per 1:1 target (chunks of 100) and ${s.fanMessages} per fan-out target (chunks of 10), targets interleaved A B B A, one message in flight; ` +
      `${s.pairs} friend pairs, ${s.users} users with one socket each; ` +
      "each round starts with one unmeasured message per 1:1 sender and per fan-out target, and the largest group and its bare room get an unmeasured message " +
      "before any chunk that comes 4 s or more after the last one (every hub stays warm, as under steady traffic). " +
      `${s.cold ? "Cold samples, in a phase of their own: 20 s without traffic, then one message each to the largest group, its bare room and its bare hubs. " : ""}` +
      `Sockets held: ${s.heldRounds} rounds of four fills (Canopy, ${s.heldUsers} users opening ${TABS_PER_USER} sockets each in one go, then idle; bare, one room; ` +
      `Canopy, sockets to the ${s.heldUsers} users in turn; bare, ${s.heldUsers} rooms in turn), A B C D then D C B A, each on a fresh workerd. ` +
      "Ratio = Canopy / bare within a round, median over rounds; spread = min–max of the per-round ratios.",
    "",
    table(["metric", "Canopy (median)", "bare (median)", "ratio", "spread", "goal", "result"], lines),
    "",
    ...(lat.length > 0
      ? [
          "Per target, median over rounds (min–max), per delivery; last = send → last recipient; ack = send → sender's `ack`.",
          "",
          table(
            ["target", "deliveries", "p50 ms", "p90 ms", "p99 ms", "last p50 ms", "ack p50 ms", "timeouts + errors"],
            targetRows(lat, s),
          ),
          "",
          `The harness's event loop, longest stall per round: ${lat.map((r) => `${Math.round(r.clientMaxDelayMs)} ms`).join(", ")}.`,
          "",
          ...scalingLines(lat, s),
        ]
      : []),
    ...(held.length > 0
      ? [
          "Sockets held: fills until a socket fails to open twice, 1 s apart (or workerd exits); memory and fds per socket from workerd's /proc figures (last sample before the failure).",
          "",
          table(
            [
              "target",
              "held",
              "how the fill ended",
              "KiB per socket",
              "fds per socket",
              "upgrades/s",
              "opened on a retry",
              "answering a ping after",
            ],
            heldRows(held),
          ),
          "",
        ]
      : []),
    ...(soakResult ? [...soakLines(soakResult), ""] : []),
    ...(bursts.length ? [...burstLines(bursts), ""] : []),
    ...(upgrades ? [...upgradeLines(upgrades), ""] : []),
    ...notes.map((n) => `- ${n}`),
    ...(notes.length > 0 ? [""] : []),
    `Goals: ${allGoalsMet ? "all met" : "NOT all met"}.`,
    "",
  ].join("\n");
  return { markdown, allGoalsMet };
}
