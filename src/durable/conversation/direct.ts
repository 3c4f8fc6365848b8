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
 * for with the send (socket frames) when it names this peer, or asked of the hub.
 */
export async function directRule(
  env: Env,
  tenantId: string,
  userId: string,
  peer: string | undefined,
  policy: MessagePolicy,
  vouched?: ({ peer: string } & Relation) | undefined,
): Promise<ConvResult<never> | null> {
  if (!peer) return null;
  const r = vouched?.peer === peer ? vouched : await hubStub(env, tenantId, userId).relation(peer);
  const refusal = directRefusal(r, policy.directWithStrangers);
  if (refusal === "blocked") return refuse("user_blocked", "Messages between you and this user are blocked.");
  if (refusal === "not_friends") return refuse("not_friends", "Direct conversations are between friends.");
  return null;
}
