import type { Relation } from "../protocol/relation";
import { refuse } from "../protocol/result";
import { hubStub } from "../protocol/stubs";
import type { ConvResult, MessagePolicy } from "./types";

/** Why two users may not message each other directly. */
export type DirectRefusal = "blocked" | "not_friends";

/**
 * The one rule for a direct conversation, applied both when it is created (Worker) and on every
 * send into it (the Conversation object): never across a block either way, and only between
 * friends unless the tenant sets `messages.directWithStrangers`. So a friendship that ends stops
 * the conversation exactly as it would stop starting it.
 */
export function directRefusal(r: Relation, strangersAllowed: boolean): DirectRefusal | null {
  if (r.blocks || r.blockedBy) return "blocked";
  if (!strangersAllowed && !r.friend) return "not_friends";
  return null;
}

/**
 * Refuses a send into a direct conversation by the rule above: `blocked` (403 user_blocked), or
 * 403 `not_friends`, the code creating it answers. The relation is the sender's hub's: vouched
 * for with the send (a gateway's copy, which the hub clears on every change of the user's graph)
 * when it names this peer, or asked of the hub; the answer carries it for the gateway to keep.
 */
export async function directRule(
  env: Env,
  tenantId: string,
  userId: string,
  peer: string | undefined,
  policy: MessagePolicy,
  vouched?: ({ peer: string } & Relation) | undefined,
): Promise<{ refused: ConvResult<never> | null; relation?: { peer: string } & Relation }> {
  if (!peer) return { refused: null };
  const r = vouched?.peer === peer ? vouched : { peer, ...(await hubStub(env, tenantId, userId).relation(peer)) };
  const refusal = directRefusal(r, policy.directWithStrangers);
  const relation = { peer, friend: r.friend, blocks: r.blocks, blockedBy: r.blockedBy };
  if (refusal === "blocked")
    return { refused: refuse("user_blocked", "Messages between you and this user are blocked."), relation };
  if (refusal === "not_friends")
    return { refused: refuse("not_friends", "Direct conversations are between friends."), relation };
  return { refused: null, relation };
}
