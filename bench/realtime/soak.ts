/**
 * The soak: `clients` devices (one user each) in a few groups, each sending messages with
 * clientIds at random intervals and being dropped at random (half abruptly, half with a normal
 * close; sometimes again right after reconnecting, in the middle of its sync), reconnecting
 * after a random time offline and resuming with `sync` (soak-client.ts). At the end every device
 * gets its pending sends acked, syncs once more, and pages over HTTP what a `sync_truncated`
 * told it to; then each group's log is read over HTTP and compared with what was sent and what
 * every member has: zero lost and zero duplicated is the goal.
 */
import { z } from "zod";
import { SoakClient, type SoakCounts } from "./soak-client";
import { api, createGroup, type Group, type RealtimeStack, type RtUser } from "./stack";

export interface SoakOptions {
  clients: number;
  groups: number;
  seconds: number;
  /** Mean time between two sends of a device, and between two drops; longest time offline. */
  sendEveryMs: number;
  dropEveryMs: number;
  maxOfflineMs: number;
}

export interface SoakResult {
  options: SoakOptions;
  /** Messages on the logs, all groups. */
  messages: number;
  /** Deliveries expected: per member, every message of its groups. */
  expected: number;
  /** (device, conversation, seq) never received, even after the final sync. */
  lost: number;
  /** Sent clientIds missing from the log, or stored twice; log seqs not 1…n. */
  logMissing: number;
  logDuplicates: number;
  logGaps: number;
  /** Acks whose seq differs from the log's seq for that clientId. */
  ackWrong: number;
  /** Pages read over HTTP after `sync_truncated`. */
  paged: number;
  counts: SoakCounts;
  failedConnects: number;
  seconds: number;
}

const LogPage = z.object({
  items: z.array(z.object({ seq: z.number().int(), body: z.unknown() })),
  nextCursor: z.union([z.number(), z.string()]).nullable(),
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const exp = (mean: number): number => -mean * Math.log(1 - Math.random());

/** A conversation's log after `after`, up to `upTo` (inclusive), over HTTP. */
async function readLog(
  origin: string,
  u: RtUser,
  conversationId: string,
  after = 0,
  upTo = Infinity,
): Promise<{ seq: number; text: string }[]> {
  const out: { seq: number; text: string }[] = [];
  for (let cursor = after; cursor < upTo; ) {
    const page = LogPage.parse(
      await api(
        origin,
        u,
        "GET",
        `/v1/conversations/${conversationId}/messages?after=${cursor}&limit=100`,
        undefined,
        200,
      ),
    );
    for (const m of page.items) {
      const text =
        typeof m.body === "object" && m.body !== null && "text" in m.body && typeof m.body.text === "string"
          ? m.body.text
          : "";
      if (m.seq <= upTo) out.push({ seq: m.seq, text });
    }
    if (page.nextCursor === null || page.items.length === 0) break;
    cursor = page.items[page.items.length - 1]!.seq;
  }
  return out;
}

/** One device's life until `end`: send, sometimes drop, reconnect and resume. */
async function life(c: SoakClient, end: number, o: SoakOptions, failed: { n: number }): Promise<void> {
  let nextDrop = Date.now() + exp(o.dropEveryMs);
  while (Date.now() < end) {
    if (!c.connected) {
      try {
        await c.connect();
        // One reconnection in ten is dropped again at once, while its sync is being answered.
        if (Math.random() < 0.1) {
          await sleep(Math.random() * 20);
          c.drop(Math.random() < 0.5);
          await sleep(Math.random() * o.maxOfflineMs);
        }
      } catch {
        failed.n++;
        await sleep(200);
      }
      continue;
    }
    await sleep(exp(o.sendEveryMs));
    if (!c.connected) continue;
    if (Date.now() >= nextDrop) {
      c.drop(Math.random() < 0.5);
      await sleep(Math.random() * o.maxOfflineMs);
      nextDrop = Date.now() + exp(o.dropEveryMs);
      continue;
    }
    await c.sendNew();
  }
}

/** Waits until `done()` or `ms` pass; true if done. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(50);
  return done();
}

/** Every device connected, its sends acked, synced once more, truncated ranges paged. */
async function settle(stack: RealtimeStack, clients: SoakClient[], failed: { n: number }): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    for (const c of clients) {
      if (c.connected) continue;
      try {
        await c.connect();
      } catch {
        failed.n++;
      }
    }
    if (await until(() => clients.every((c) => c.pending.size === 0 && c.synced), 10_000)) break;
  }
  for (const c of clients) await c.resync();
  await until(() => clients.every((c) => c.synced || !c.connected), 10_000);
  await sleep(1000);
  let paged = 0;
  for (const c of clients) {
    for (const p of c.toPage.splice(0)) {
      for (const m of await readLog(stack.servers.workerOrigin, c.user, p.conversationId, p.after, p.upTo))
        c.add(p.conversationId, m.seq);
      paged++;
    }
  }
  return paged;
}

export async function soak(stack: RealtimeStack, o: SoakOptions): Promise<SoakResult> {
  const origin = stack.servers.workerOrigin;
  const users = stack.users.slice(0, o.clients);
  if (users.length < o.clients) throw new Error(`the soak needs ${o.clients} users`);
  // Group g leaves out every user i with i % groups === g: each device is in groups − 1 of them.
  const groups: Group[] = [];
  for (let g = 0; g < o.groups; g++) {
    const members = users.filter((_, i) => o.groups === 1 || i % o.groups !== g);
    groups.push(await createGroup(origin, members, `soak ${g}`));
  }
  const clients = users.map(
    (u) =>
      new SoakClient(
        u,
        groups.filter((g) => g.members.includes(u)).map((g) => g.id),
        stack.canopyUrl,
      ),
  );
  const failed = { n: 0 };
  const t0 = Date.now();
  await Promise.all(clients.map((c) => life(c, t0 + o.seconds * 1000, o, failed)));
  const paged = await settle(stack, clients, failed);

  let messages = 0,
    expected = 0,
    lost = 0,
    logMissing = 0,
    logDuplicates = 0,
    logGaps = 0,
    ackWrong = 0;
  const sent = new Map<string, { conversationId: string; seq: number }>();
  for (const c of clients) for (const [id, s] of c.sends) sent.set(id, s);
  for (const g of groups) {
    const log = await readLog(origin, g.members[0]!, g.id);
    messages += log.length;
    log.forEach((m, i) => (logGaps += m.seq === i + 1 ? 0 : 1));
    const byText = new Map<string, number>();
    for (const m of log) {
      if (byText.has(m.text)) logDuplicates++;
      byText.set(m.text, m.seq);
      const s = sent.get(m.text);
      if (s && s.seq !== m.seq) ackWrong++;
    }
    for (const [id, s] of sent) if (s.conversationId === g.id && !byText.has(id)) logMissing++;
    for (const c of clients) {
      const have = c.have.get(g.id);
      if (!have) continue;
      expected += log.length;
      for (const m of log) if (!have.has(m.seq)) lost++;
    }
  }
  const counts = clients.map((c) => c.counts).reduce(sum);
  for (const c of clients) c.drop(false);
  return {
    options: o,
    messages,
    expected,
    lost,
    logMissing,
    logDuplicates,
    logGaps,
    ackWrong,
    paged,
    counts,
    failedConnects: failed.n,
    seconds: (Date.now() - t0) / 1000,
  };
}

function addRecords(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sum(a: SoakCounts, b: SoakCounts): SoakCounts {
  return {
    sent: a.sent + b.sent,
    acks: a.acks + b.acks,
    connects: a.connects + b.connects,
    drops: a.drops + b.drops,
    serverCloses: addRecords(a.serverCloses, b.serverCloses),
    duplicates: a.duplicates + b.duplicates,
    askedAgain: a.askedAgain + b.askedAgain,
    outOfOrderBeforeSynced: a.outOfOrderBeforeSynced + b.outOfOrderBeforeSynced,
    outOfOrder: a.outOfOrder + b.outOfOrder,
    truncated: a.truncated + b.truncated,
    afterClose: a.afterClose + b.afterClose,
    duplicatesAfterClose: a.duplicatesAfterClose + b.duplicatesAfterClose,
    errors: addRecords(a.errors, b.errors),
    ackMismatches: a.ackMismatches + b.ackMismatches,
  };
}
