/**
 * The two sizes of a run. Quick (`--quick`) is bounded for CI on a 2-core machine (under 90 s
 * with the build); full takes a few minutes and adds the probe that needs to outwait the
 * refresh grace window. Retries outlast the Worker's own database timeout (10 s), so an
 * operation caught in the blackhole still gets its 503 and then its retry.
 */
import type { LoadProfile } from "./load/index";
import type { Timing } from "./scenarios";
import type { WorldSize } from "./world";

export interface Profile {
  name: "quick" | "full";
  world: WorldSize;
  load: LoadProfile;
  timing: Timing;
  /** Drain: at most this long, at least this long (alarms and sweeps come due). */
  drainMaxMs: number;
  drainMinMs: number;
  /** Queue retry delays are capped at this (broker.ts). */
  maxRetryDelayMs: number;
  /** Run the refresh probe that waits past the 30 s grace window. */
  staleRefreshProbe: boolean;
  /** The whole run is abandoned (exit 1) after this long. */
  watchdogMs: number;
}

export const QUICK: Profile = {
  name: "quick",
  world: { pairs: 3, chains: 3, totp: 2, graphPool: 5, buyers: 3, fundings: [3000, 8000, 20_000], probe: false },
  load: {
    socketIntervalMs: 400,
    httpSendIntervalMs: 1000,
    friendIntervalMs: 600,
    followIntervalMs: 800,
    refreshIntervalMs: 700,
    registerIntervalMs: 2500,
    announceIntervalMs: 5000,
    orderIntervalMs: 200,
    aiIntervalMs: 150,
    refundChance: 0.15,
    retryMs: 20_000,
    settleMs: 8000,
  },
  timing: { leadMs: 1500, tailMs: 3500, graceMs: 2500 },
  drainMaxMs: 20_000,
  drainMinMs: 4000,
  maxRetryDelayMs: 2000,
  staleRefreshProbe: false,
  watchdogMs: 150_000,
};

export const FULL: Profile = {
  name: "full",
  world: { pairs: 6, chains: 6, totp: 4, graphPool: 8, buyers: 3, fundings: [5000, 15_000, 40_000], probe: true },
  load: {
    socketIntervalMs: 250,
    httpSendIntervalMs: 600,
    friendIntervalMs: 500,
    followIntervalMs: 500,
    refreshIntervalMs: 500,
    registerIntervalMs: 1500,
    announceIntervalMs: 4000,
    orderIntervalMs: 200,
    aiIntervalMs: 150,
    refundChance: 0.15,
    retryMs: 25_000,
    settleMs: 15_000,
  },
  timing: { leadMs: 5000, tailMs: 10_000, graceMs: 3000 },
  // Retries keep the consumer's own delays (5 s, 10 s … 80 s: src/workers/events/queues.ts), so a
  // message gets production's retry window; draining may take that long after the last fault.
  drainMaxMs: 200_000,
  drainMinMs: 35_000,
  maxRetryDelayMs: 3_600_000,
  staleRefreshProbe: true,
  watchdogMs: 600_000,
};
