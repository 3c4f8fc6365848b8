/**
 * Starts and stops the whole load at once: socket senders on every pair (both members send),
 * HTTP senders, friendships and follows, refresh chains, sign-ups, TOTP sign-ins, announcements,
 * the buyers' orders and refunds, and their metered AI calls. Stopping ends the loops, then gives unacknowledged socket
 * sends a bounded time to be acknowledged (re-sent with their client ids), then closes the sockets.
 */
import type { Api } from "../http";
import { sleep } from "../http";
import type { World } from "../world";
import { AiLoad } from "./ai";
import { AuthLoad } from "./auth";
import { GraphLoad } from "./graph";
import { Loops } from "./loops";
import { SocketSender } from "./messages";
import { MiscLoad } from "./misc";
import { MoneyLoad } from "./money";
import { TotpLoad } from "./totp";

export interface LoadProfile {
  /** Between two new socket messages of one device. */
  socketIntervalMs: number;
  httpSendIntervalMs: number;
  friendIntervalMs: number;
  followIntervalMs: number;
  refreshIntervalMs: number;
  registerIntervalMs: number;
  announceIntervalMs: number;
  /** Between two orders of one buyer. */
  orderIntervalMs: number;
  /** Between two metered AI calls (moderations) of one buyer. */
  aiIntervalMs: number;
  /** After a paid order, the chance the buyer has the owner refund one of its paid orders. */
  refundChance: number;
  /** How long one operation keeps retrying (503 / no answer) before it gives up. */
  retryMs: number;
  /** After stopping, how long unacknowledged socket sends may still be acknowledged. */
  settleMs: number;
}

export interface Load {
  senders: SocketSender[];
  graph: GraphLoad;
  auth: AuthLoad;
  totp: TotpLoad;
  misc: MiscLoad;
  money: MoneyLoad;
  ai: AiLoad;
  loops: Loops;
  /** Stops everything; answers once it is all settled. */
  stop(): Promise<void>;
}

export function startLoad(api: Api, world: World, wsUrl: string, p: LoadProfile): Load {
  const senders: SocketSender[] = [];
  for (const pair of world.pairs) {
    senders.push(new SocketSender(wsUrl, pair.a, pair.conversationId, api.journal, p.socketIntervalMs));
    senders.push(new SocketSender(wsUrl, pair.b, pair.conversationId, api.journal, p.socketIntervalMs * 2));
  }
  const loops = new Loops();
  const graph = new GraphLoad(api, world.graphPool, world.users, p.retryMs);
  const auth = new AuthLoad(api, world.chains, p.retryMs);
  const totp = new TotpLoad(api, world.totp, p.retryMs);
  // HTTP sends share the first half of the pairs' conversations with the sockets.
  const misc = new MiscLoad(
    api,
    world.ownerToken,
    world.pairs.slice(0, Math.max(1, Math.floor(world.pairs.length / 2))),
    p.retryMs,
  );
  const money = new MoneyLoad(api, world.ownerToken, world.buyers, world.productId, p.retryMs, p.refundChance);
  const ai = new AiLoad(api, world.buyers);
  for (const s of senders) s.start();
  graph.start(loops, p.friendIntervalMs, p.followIntervalMs);
  auth.start(loops, p.refreshIntervalMs, p.registerIntervalMs);
  totp.start(loops);
  misc.start(loops, p.httpSendIntervalMs, p.announceIntervalMs);
  money.start(loops, p.orderIntervalMs);
  ai.start(loops, p.aiIntervalMs);
  return {
    senders,
    graph,
    auth,
    totp,
    misc,
    money,
    ai,
    loops,
    async stop() {
      for (const s of senders) s.stopSending();
      await loops.stop();
      const deadline = Date.now() + p.settleMs;
      while (Date.now() < deadline && senders.some((s) => s.unacked().length > 0)) await sleep(200);
      for (const s of senders) s.close();
    },
  };
}
