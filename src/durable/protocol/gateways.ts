import { gatewayStub } from "./stubs";

/**
 * Which gateway object holds a user's sockets: `fnv1a(userId) mod count`, where `count` is the
 * tenant's `realtime.gateways`. The Worker routes an upgrade by it and a conversation groups its
 * members' deliveries by it, so both must use this one function.
 */
export function gatewayOf(userId: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % Math.max(1, count);
}

/** Gateways per tenant when its config names none. */
export const DEFAULT_GATEWAYS = 16;

/** Writes a frame to a user's sockets through their gateway; answers how many sockets got it. */
export function deliverToUser(
  env: Pick<Env, "REALTIME_GATEWAY">,
  tenant: { id: string; config: { realtime: { gateways: number } } },
  userId: string,
  frame: string,
): Promise<number> {
  return gatewayStub(env, tenant.id, gatewayOf(userId, tenant.config.realtime.gateways)).deliver(frame, [userId]);
}
