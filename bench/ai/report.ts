/**
 * The AI benchmark's markdown: the quota check next to the bare route and the chain (serial
 * p50/p90 and ratios taken per round; throughput with 32 connections and the share of checks
 * served from a lease), the checks after every round, chat time-to-first-delta, and moderation
 * next to `whoami`. Each cell: median over rounds of the per-round figure (min–max).
 */
import { table } from "../markdown";
import { type LatencyResult, median } from "../measure";
import type { Machine } from "../report";
import type { BatchKey, BatchResult } from "./batch";
import type { ChatResult } from "./chat";
import type { CheckCounts, LoadKey, SerialKey } from "./checks";
import { ARTICLES } from "./knowledge";
import type { LoadResult } from "./load";

export interface AiSettings {
  rounds: number;
  serial: number;
  seconds: number;
  connections: number;
  users: number;
  chatSerial: number;
  chatSessions: number;
  chatTurns: number;
  moderate: number;
  /** Timed batch requests per target and round, and checks per (leased) request. */
  batchReps: number;
  batchChecks: number;
}

export interface AiRound {
  serial: Record<SerialKey, LatencyResult>;
  /** `ai-a`'s check counts over the serial turns (warm-up included). */
  serialLease: CheckCounts;
  load: Record<LoadKey, LoadResult>;
  batch: Record<BatchKey, BatchResult>;
  chatSerial: ChatResult;
  chatConcurrent: ChatResult;
  moderate: { whoami: LatencyResult; moderate: LatencyResult };
  failures: string[];
  /** Users whose object was compared with the grants, and the checks granted so far. */
  users: number;
  granted: number;
}

const ms = (us: number) => (us / 1000).toFixed(3);
const x2 = (v: number) => `${v.toFixed(2)}x`;
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const spread = (xs: number[], f: (x: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

const SERIAL_LABEL: Record<SerialKey, string> = {
  bare: "`GET /__bare` (outside the chain)",
  chain: "`GET /v1/time` (the chain: request id, tenant)",
  whoami: "`GET /v1/auth/whoami` (the chain + authentication)",
  leased: "check, `ai-a` (leases on), 1 user",
  unleased: "check, `ai-b` (leases off), 1 user",
};

function serialTable(rounds: AiRound[]): string {
  const per = (k: SerialKey, f: (l: LatencyResult) => number) => rounds.map((r) => f(r.serial[k]));
  const ratio = (k: SerialKey, base: SerialKey) => rounds.map((r) => r.serial[k].p50 / r.serial[base].p50);
  return table(
    [
      "serial, 1 keep-alive connection",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "p50 / bare",
      "p50 / chain",
      "step over chain, ms",
    ],
    (["bare", "chain", "whoami", "leased", "unleased"] as SerialKey[]).map((k) => [
      SERIAL_LABEL[k],
      spread(
        per(k, (l) => l.p50),
        ms,
      ),
      ms(median(per(k, (l) => l.p90))),
      ms(median(per(k, (l) => l.p99))),
      spread(ratio(k, "bare"), x2),
      spread(ratio(k, "chain"), x2),
      spread(
        rounds.map((r) => r.serial[k].p50 - r.serial.chain.p50),
        ms,
      ),
    ]),
  );
}

function loadTable(rounds: AiRound[], s: AiSettings): string {
  const label: Record<LoadKey, string> = {
    bare: "`GET /__bare`",
    chain: "`GET /v1/time` (chain)",
    leasedMany: `check, leases on, ${s.users} users`,
    leasedHot: "check, leases on, 1 hot user",
    unleasedMany: `check, leases off, ${s.users} users`,
    unleasedHot: "check, leases off, 1 hot user",
  };
  const share = (k: LoadKey, f: (l: LoadResult) => number) => {
    const a = rounds.map((r) => r.load[k]);
    return a.some((l) => l.answers > 0)
      ? spread(
          a.map((l) => f(l) / Math.max(1, l.answers)),
          pct,
        )
      : "—";
  };
  return table(
    [
      `${s.connections} connections, ${s.seconds} × 1 s slices`,
      "req/s",
      "/ bare",
      "/ chain",
      "user part from a lease",
      "user and pool from a lease",
      "non-2xx, errors (summed)",
    ],
    (Object.keys(label) as LoadKey[]).map((k) => [
      label[k],
      spread(
        rounds.map((r) => r.load[k].rps),
        (v) => v.toFixed(0),
      ),
      spread(
        rounds.map((r) => r.load[k].rps / r.load.bare.rps),
        x2,
      ),
      spread(
        rounds.map((r) => r.load[k].rps / r.load.chain.rps),
        x2,
      ),
      share(k, (l) => l.userLeased),
      share(k, (l) => l.bothLeased),
      `${rounds.reduce((a, r) => a + r.load[k].non2xx, 0)}, ${rounds.reduce((a, r) => a + r.load[k].errors + r.load[k].timeouts, 0)}`,
    ]),
  );
}

function batchTable(rounds: AiRound[], s: AiSettings): string {
  const label: Record<BatchKey, string> = {
    leasedMany: `leases on, ${s.users} users`,
    leasedHot: "leases on, 1 hot user",
    unleasedMany: `leases off, ${s.users} users`,
    unleasedHot: "leases off, 1 hot user",
  };
  return table(
    [
      `checks inside one request, 32 at a time (${s.batchReps} requests per round)`,
      "checks/s",
      "/ chain req/s",
      "user part from a lease",
      "user and pool from a lease",
    ],
    (Object.keys(label) as BatchKey[]).map((k) => [
      label[k],
      spread(
        rounds.map((r) => r.batch[k].checksPerS),
        (v) => v.toFixed(0),
      ),
      spread(
        rounds.map((r) => r.batch[k].checksPerS / r.load.chain.rps),
        x2,
      ),
      pct(
        rounds.reduce((a, r) => a + r.batch[k].userLeased, 0) /
          Math.max(
            1,
            rounds.reduce((a, r) => a + r.batch[k].checks, 0),
          ),
      ),
      pct(
        rounds.reduce((a, r) => a + r.batch[k].bothLeased, 0) /
          Math.max(
            1,
            rounds.reduce((a, r) => a + r.batch[k].checks, 0),
          ),
      ),
    ]),
  );
}

function chatTable(rounds: AiRound[], s: AiSettings): string {
  const row = (name: string, f: (r: AiRound) => ChatResult) => [
    name,
    spread(
      rounds.map((r) => f(r).p50),
      ms,
    ),
    ms(median(rounds.map((r) => f(r).p99))),
    ms(median(rounds.map((r) => f(r).totalP50))),
    median(rounds.map((r) => f(r).turnsPerSecond)).toFixed(1),
    `${rounds.reduce((a, r) => a + f(r).answered, 0)}/${rounds.reduce((a, r) => a + f(r).turns, 0)}`,
  ];
  return table(
    ["`POST /v1/ai/chat`", "first delta p50 ms", "first delta p99 ms", "to `done` p50 ms", "turns/s", "answered"],
    [
      row(`serial: 1 user, ${s.chatSerial} turns, a new session each`, (r) => r.chatSerial),
      row(`${s.chatSessions} sessions at once, ${s.chatTurns} turns each`, (r) => r.chatConcurrent),
    ],
  );
}

function moderateTable(rounds: AiRound[], s: AiSettings): string {
  const p = (f: (r: AiRound) => LatencyResult) =>
    spread(
      rounds.map((r) => f(r).p50),
      ms,
    );
  return table(
    [`serial, ${s.moderate} requests each`, "p50 ms", "p99 ms", "moderate / whoami", "step, ms"],
    [
      [
        "`GET /v1/auth/whoami`",
        p((r) => r.moderate.whoami),
        ms(median(rounds.map((r) => r.moderate.whoami.p99))),
        "—",
        "—",
      ],
      [
        "`POST /v1/ai/moderate` (a neutral sentence)",
        p((r) => r.moderate.moderate),
        ms(median(rounds.map((r) => r.moderate.moderate.p99))),
        spread(
          rounds.map((r) => r.moderate.moderate.p50 / r.moderate.whoami.p50),
          x2,
        ),
        spread(
          rounds.map((r) => r.moderate.moderate.p50 - r.moderate.whoami.p50),
          ms,
        ),
      ],
    ],
  );
}

export function aiReport(
  rounds: AiRound[],
  m: Machine,
  s: AiSettings,
  notes: string[],
): { markdown: string; goalsMet: boolean } {
  const leasedRatio = median(rounds.map((r) => r.serial.leased.p50 / r.serial.chain.p50));
  const manyRps = median(rounds.map((r) => r.load.leasedMany.rps));
  const hotRps = median(rounds.map((r) => r.load.leasedHot.rps));
  const latencyMet = leasedRatio <= 1.3;
  const gateMany = median(rounds.map((r) => r.batch.leasedMany.checksPerS));
  const gateHot = median(rounds.map((r) => r.batch.leasedHot.checksPerS));
  const chainRps = median(rounds.map((r) => r.load.chain.rps));
  // The quota check's throughput is the gate's: through HTTP, every check is also a request, which the chain bounds.
  const rpsMet = gateMany >= 5_000 && gateHot >= 5_000;
  const failures = rounds.flatMap((r, i) => r.failures.map((f) => `round ${i + 1}: ${f}`));
  const sl = rounds.map((r) => r.serialLease);
  const sum = (f: (c: CheckCounts) => number) => sl.reduce((a, c) => a + f(c), 0);
  const markdown = [
    `## AI benchmark: quota checks and chat`,
    "",
    `Machine: ${m.nproc} CPUs (${m.cpu}), Node ${m.node}, ${m.workerd}, commit ${m.commit}; load average (1/5/15 min) before ${m.load}, after ${m.loadAfter}. Date ${m.date}.`,
    `Settings: ${s.rounds} rounds; each: the serial targets (${s.serial} requests each, chunks of 100, A B C …, … C B A), the throughput targets (${s.seconds} one-second slices each, interleaved the same way), chat serial then ${s.chatSessions} sessions at once, moderation and whoami interleaved (${s.moderate} each), then the checks; target order reversed every other round. Tenants \`ai-a\` (leases on) and \`ai-b\` (\`ai.lease.enabled: false\`): ${s.users} check users each, quota 10^9 units a day, pool 10^10; the check is \`GET /v1/__bench/ai-check\` of the bench bundle (bench/ai/entry.mts): the gate's \`hold\` of 1 unit on the user's quota and the pool, then \`settle\`, behind the same chain as \`GET /v1/time\` (user from \`x-bench-user\`, no authentication).`,
    "",
    "### Quota checks",
    "",
    serialTable(rounds),
    "",
    `Serial checks of \`ai-a\` served from a lease: user part ${pct(
      sum((c) => c.userLeased) /
        Math.max(
          1,
          sum((c) => c.checks),
        ),
    )}, user and pool ${pct(
      sum((c) => c.bothLeased) /
        Math.max(
          1,
          sum((c) => c.checks),
        ),
    )} (${sum((c) => c.checks)} checks, warm-up included).`,
    "",
    loadTable(rounds, s),
    "",
    batchTable(rounds, s),
    "",
    `Goals: leased check p50 ≤ 1.3x the chain: ${x2(leasedRatio)}, **${latencyMet ? "met" : "not met"}**; ≥ 5,000 checks/s (leases on, the gate in one isolate): ${gateMany.toFixed(0)}/s over ${s.users} users and ${gateHot.toFixed(0)}/s on one hot user, **${rpsMet ? "met" : "not met"}**. Through HTTP, one check per request (32 connections): ${manyRps.toFixed(0)}/s over ${s.users} users and ${hotRps.toFixed(0)}/s on one hot user, where the chain alone (\`GET /v1/time\`) serves ${chainRps.toFixed(0)} req/s: a check per request cannot outrun the chain it runs behind.`,
    "",
    `After every round (leases ended): each check user's \`used\` (\`GET /v1/ai/quota\`) = the checks the Worker granted it, \`reserved\` = 0, and each pool's \`used\` = its users' sum (chat and moderation units of \`ai-a\` included): ${failures.length === 0 ? "**all held**" : "**FAILED**"} (${rounds.at(-1)?.users ?? 0} users, ${rounds.at(-1)?.granted ?? 0} checks granted in all, warm-up included).`,
    "",
    "### Chat and moderation (local provider)",
    "",
    `Time to first delta: from the request's start to the first bytes of an \`event: delta\` frame; ${ARTICLES} knowledge articles, questions that share terms with them.`,
    "",
    chatTable(rounds, s),
    "",
    moderateTable(rounds, s),
    "",
    ...failures.map((f) => `- ${f}`),
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
  return { markdown, goalsMet: latencyMet && rpsMet };
}
