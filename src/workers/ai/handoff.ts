import { activeRoleHolders, findSession, markHandedOff, messagesOf } from "../../db/tenant/ai-chat";
import { indexConversation } from "../../db/tenant/conversation-members";
import { MAX_BODY_BYTES } from "../../durable/protocol/frames";
import { conversationStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import type { TenantScope } from "../gateway/context";
import { valueOf } from "../gateway/results";

/**
 * Handing a chat to people (docs/ai.md, Chat): a group conversation in the realtime service with
 * the user and up to `ai.chat.maxAgents` active holders of `ai.chat.supportRole`, opened by a
 * `custom` message carrying the transcript. The same two calls realtime's createConversation
 * makes (the object, then the index rows), both idempotent, under an id derived from the session,
 * so a retry (or a retry after a crash half-way) answers the same conversation and adds nothing.
 */

/** The support conversation of a chat session: `g_support` + the session id's 26 characters (a valid group id). */
export const supportConversationId = (sessionId: string) => `g_support${sessionId.replace(/^cs_/, "")}`;

/** Turns of the transcript the first message carries. */
const TRANSCRIPT_TURNS = 20;
/** Each turn is cut to this many characters, so the message stays far below the body cap. */
const TURN_CHARS = 500;

const noSession = () => new AppError("chat_session_not_found", "No such chat session of yours.");

export async function handOff(
  s: TenantScope,
  userId: string,
  sessionId: string,
  now = Date.now(),
): Promise<{ sessionId: string; conversationId: string }> {
  const session = await findSession(s.db, sessionId, userId);
  if (!session) throw noSession();
  const cfg = s.tenant.config.ai.chat;
  const conversationId = session.conversationId ?? supportConversationId(session.id);
  const agents = (await activeRoleHolders(s.db, cfg.supportRole, cfg.maxAgents + 1))
    .filter((id) => id !== userId)
    .slice(0, cfg.maxAgents);
  // Once handed off, a retry answers the conversation even if the agents have left the role since.
  if (agents.length === 0 && !session.conversationId) {
    throw new AppError("handoff_unavailable", "Nobody holds the support role right now.");
  }
  const memberIds = [userId, ...agents];
  const stub = conversationStub(s.env, s.tenant.id, conversationId);
  await stub.create({
    tenantId: s.tenant.id,
    id: conversationId,
    type: "group",
    name: `Support: ${session.title}`.slice(0, 80),
    ownerId: userId,
    memberIds,
    now,
  });
  await indexConversation(s.db, { id: conversationId, type: "group", createdBy: userId, memberIds, now });
  const transcript = (await messagesOf(s.db, session.id, TRANSCRIPT_TURNS)).map((m) => ({
    role: m.role,
    content: m.content.slice(0, TURN_CHARS),
    at: new Date(m.createdAt).toISOString(),
  }));
  const body = { type: "canopy.handoff", sessionId: session.id, transcript };
  // 20 turns of 500 characters fit the cap in any script but the widest; drop the oldest until it fits.
  while (transcript.length > 1 && new TextEncoder().encode(JSON.stringify(body)).length > MAX_BODY_BYTES) {
    transcript.shift();
  }
  // The sender's clientId makes the first message idempotent too: a retry answers the stored one.
  valueOf(await stub.send(userId, { clientId: `handoff:${session.id}`, kind: "custom", body }, { now }));
  await markHandedOff(s.db, session.id, conversationId);
  return { sessionId: session.id, conversationId };
}
