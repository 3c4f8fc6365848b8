/**
 * The sign-in flows' part of the report: login and refresh, unloaded (one loop, sequential) and
 * loaded (all loops at once), medians over rounds with min–max, and the PBKDF2 reference.
 */
import type { FlowResult } from "./auth-flows";
import { table } from "./markdown";
import { median } from "./measure";

export interface AuthRound {
  loginSeq: FlowResult;
  refreshSeq: FlowResult;
  loginLoad: FlowResult;
  refreshLoad: FlowResult;
  /** Loops in the loaded runs. */
  loops: { login: number; refresh: number };
  /** PBKDF2-HMAC-SHA256 at 100k iterations in the harness's Node (µs), median of 5. */
  pbkdf2: number;
  /** The bench bundle's `GET /__floor/pbkdf2`, as many loops as the loaded login, as long. */
  pbkdf2Load: FlowResult;
}

const ms = (us: number): string => `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
const perSecond = (v: number): string => `${v.toFixed(v < 100 ? 1 : 0)}/s`;

function spread(vals: number[], f: (v: number) => string): string {
  return `${f(median(vals))} (${f(Math.min(...vals))}–${f(Math.max(...vals))})`;
}

function failures(results: FlowResult[]): string {
  const sum: Record<string, number> = {};
  for (const r of results) for (const [k, n] of Object.entries(r.failures)) sum[k] = (sum[k] ?? 0) + n;
  const parts = Object.entries(sum).map(([k, n]) => `${n}× ${k}`);
  return parts.length > 0 ? parts.join(", ") : "0";
}

export function authTable(rounds: AuthRound[], seconds: number): string[] {
  const row = (label: string, seq: (r: AuthRound) => FlowResult, load: (r: AuthRound) => FlowResult): string[] => [
    label,
    spread(
      rounds.map((r) => seq(r).p50),
      ms,
    ),
    spread(
      rounds.map((r) => seq(r).p90),
      ms,
    ),
    spread(
      rounds.map((r) => load(r).rps),
      perSecond,
    ),
    spread(
      rounds.map((r) => load(r).p50),
      ms,
    ),
    spread(
      rounds.map((r) => load(r).p90),
      ms,
    ),
    failures(rounds.flatMap((r) => [seq(r), load(r)])),
  ];
  const loops = rounds[0]?.loops ?? { login: 0, refresh: 0 };
  return [
    `Sign-in flows, per round: unloaded = one loop of sequential requests (${rounds[0]?.loginSeq.n ?? 0} logins, ${rounds[0]?.refreshSeq.n ?? 0} refreshes); ` +
      `loaded = ${loops.login} login loops (one user each) or ${loops.refresh} refresh chains (one session each, each sending the token the previous answer returned) ` +
      `for ${seconds} s; every request from its own CF-Connecting-IP. Median over rounds (min–max).`,
    "",
    table(
      ["flow", "unloaded p50", "unloaded p90", "loaded throughput", "loaded p50", "loaded p90", "failed requests"],
      [
        row(
          "login `POST /v1/auth/login`",
          (r) => r.loginSeq,
          (r) => r.loginLoad,
        ),
        row(
          "refresh `POST /v1/auth/refresh`",
          (r) => r.refreshSeq,
          (r) => r.refreshLoad,
        ),
      ],
    ),
    "",
    `Reference: PBKDF2-HMAC-SHA256, 100,000 iterations, in the harness's Node on this machine: ${spread(
      rounds.map((r) => r.pbkdf2),
      ms,
    )} per hash (one core). ` +
      `The login's bound, the bench bundle's \`GET /__floor/pbkdf2\` (one hash at the configured cost per request, ${loops.login} loops for ${seconds} s): ` +
      `${spread(
        rounds.map((r) => r.pbkdf2Load.rps),
        perSecond,
      )} loaded, p50 ${spread(
        rounds.map((r) => r.pbkdf2Load.p50),
        ms,
      )}; failed requests ${failures(rounds.map((r) => r.pbkdf2Load))}.`,
  ];
}
