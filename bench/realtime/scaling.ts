/**
 * How the fan-out figures scale with the group: one line per measured group (all members online),
 * then the large group with few online, medians over rounds.
 */
import { table } from "../markdown";
import { median } from "../measure";
import type { LatencyRound, RealtimeSettings, Summary } from "./report";

const ms = (us: number) => (us / 1000).toFixed(2);

export function scalingLines(lat: LatencyRound[], s: RealtimeSettings): string[] {
  if (lat.length === 0) return [];
  const line = (
    members: number,
    online: number,
    get: (r: LatencyRound) => Summary,
    bare?: (r: LatencyRound) => Summary,
  ) => {
    const med = (f: (x: Summary) => number, g = get) => median(lat.map((r) => f(g(r))));
    return [
      String(members),
      String(online),
      ms(med((x) => x.last.p50)),
      ms(med((x) => x.delivery.p99)),
      bare ? ms(med((x) => x.last.p50, bare)) : "—",
      bare ? `${median(lat.map((r) => get(r).last.p50 / bare(r).last.p50)).toFixed(2)}x` : "—",
    ];
  };
  const rows = [...s.sizes]
    .sort((a, b) => a - b)
    .map((n) =>
      line(
        n,
        n,
        (r) => r.fanOut.get(n)!.canopy,
        (r) => r.fanOut.get(n)!.bare,
      ),
    );
  if (s.sparse && lat.every((r) => r.sparse))
    rows.push(line(s.sparse.members, s.sparse.online, (r) => r.sparse!.canopy));
  return [
    "Scaling: fan-out by group size (medians over rounds; a group message costs one gateway call per gateway holding an online member, at most the tenant's `realtime.gateways`, 16 here).",
    "",
    table(
      ["members", "online", "last recipient p50 ms", "p99 per delivery ms", "bare room last p50 ms", "ratio"],
      rows,
    ),
    "",
  ];
}
