/**
 * Upgrades per second: `count` sockets opened `concurrency` at a time, Canopy's (bearer token,
 * the Worker's authentication, the user's hub admitting it, then its gateway) against the bare
 * object's (one object per socket, `/echo/up-<i>`), interleaved A B B A over rounds; every socket is closed after its fill,
 * and each side opens to the same objects every round (the first round pays their creation).
 */
import { median } from "../measure";
import { type RealtimeStack, userHeaders } from "./stack";
import { closeAll, connect } from "./ws-client";
import type WebSocket from "ws";

export interface UpgradeRates {
  count: number;
  concurrency: number;
  canopy: number[];
  bare: number[];
}

async function fill(n: number, concurrency: number, open: (i: number) => Promise<WebSocket>): Promise<number> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) sockets.push(await open(i));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await closeAll(sockets);
  return n / seconds;
}

export async function upgradeRates(
  stack: RealtimeStack,
  count: number,
  rounds: number,
  concurrency = 32,
): Promise<UpgradeRates> {
  const n = Math.min(count, stack.users.length);
  const out: UpgradeRates = { count: n, concurrency, canopy: [], bare: [] };
  const canopy = () => fill(n, concurrency, (i) => connect(stack.canopyUrl, { headers: userHeaders(stack.users[i]!) }));
  // The same objects every round on both sides (Canopy's hubs and gateways are the same users' each time).
  const bare = () => fill(n, concurrency, (i) => connect(`${stack.bareUrl}/echo/up-${i}`));
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.canopy.push(await canopy());
      out.bare.push(await bare());
    } else {
      out.bare.push(await bare());
      out.canopy.push(await canopy());
    }
  }
  return out;
}

/** The report's lines: medians and the ratio (per second, so higher is better). */
export function upgradeLines(u: UpgradeRates): string[] {
  const c = median(u.canopy);
  const b = median(u.bare);
  const ratios = u.canopy.map((x, i) => x / (u.bare[i] ?? Number.NaN));
  return [
    `Upgrades per second: ${u.count} sockets opened ${u.concurrency} at a time, ${u.canopy.length} rounds interleaved A B B A; each socket closed after its fill. ` +
      `Canopy ${c.toFixed(0)}/s (bearer checked by the Worker, admitted by the user's hub, accepted by its gateway), bare ${b.toFixed(0)}/s (one object per socket): ${(c / b).toFixed(2)}x ` +
      `(rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x). No goal row; reported as the issue asks.`,
  ];
}
