import { indexConversation, listedConversations } from "../../db/tenant/conversation-members";
import { activeUserIds } from "../../db/tenant/users";
import type { Conversation, ConversationSummary } from "../../durable/conversation";
import { directRefusal } from "../../durable/conversation/direct";
import { sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";

import type { TenantScope } from "../gateway/context";
import { conversationStub, hubStub } from "../../durable/protocol/stubs";
import { valueOf } from "../gateway/results";

/** A conversation's Durable Object; the name carries the tenant, so ids never cross tenants. */

const noConversation = () => new AppError("conversation_not_found", "No such conversation.");

/**
 * The object of a conversation the caller names, once the tenant DB's per-user index lists the
 * caller in it. Addressing an object creates it, so an unknown id must stop here: it answers
 * exactly what a non-member gets from the object (404 conversation_not_found, so it tells neither
 * existence nor membership), and leaves nothing stored. The object still decides: a row only
 * says the object exists (one left behind by a failed removal is refused there).
 */
export async function memberConversation(
  { env, tenant, db }: TenantScope,
  userId: string,
  id: string,
): Promise<DurableObjectStub<Conversation>> {
  if (!(await listedConversations(db, userId, [id])).has(id)) throw noConversation();
  return conversationStub(env, tenant.id, id);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The JSON shape of a conversation summary (a member's mute flag is private: only the caller's own, at the top). */
export function conversationJson(s: ConversationSummary) {
  return {
    ...s,
    createdAt: iso(s.createdAt),
    members: s.members.map((m) => ({ userId: m.userId, role: m.role, joinedAt: iso(m.joinedAt), readSeq: m.readSeq })),
  };
}

/** The id of the direct conversation of two users: the same whoever starts it. */
export async function directId(a: string, b: string): Promise<string> {
  const [x, y] = [a, b].sort();
  return `d_${(await sha256Hex(`${x}:${y}`)).slice(0, 32)}`;
}

const noUser = () => new AppError("user_not_found", "No such user.");

/** Active users among `ids` of this tenant; any other id is refused as an unknown user. */
export async function requireUsers({ db }: TenantScope, ids: string[]): Promise<void> {
  const active = await activeUserIds(db, ids);
  if (ids.some((id) => !active.has(id))) throw noUser();
}

/**
 * Refuses peers who block the creator or whom the creator blocks: they look like no user. For a
 * direct conversation (`strangersAllowed` given: the tenant's `messages.directWithStrangers`),
 * the rule every send into it applies too (conversation/direct.ts): not friends is 403.
 */
export async function requireUnblocked(
  { env, tenant }: TenantScope,
  me: string,
  peers: string[],
  strangersAllowed = true,
): Promise<void> {
  const hub = hubStub(env, tenant.id, me);
  const refusals = (await Promise.all(peers.map((p) => hub.relation(p)))).map((r) =>
    directRefusal(r, strangersAllowed),
  );
  if (refusals.includes("blocked")) throw noUser();
  if (refusals.includes("not_friends")) throw new AppError("not_friends", "Direct conversations are between friends.");
}

export type CreateInput = { type: "direct"; userId: string } | { type: "group"; name: string; memberIds: string[] };

/**
 * Creates a conversation (the object first, then the index rows, both idempotent): a direct one
 * between friends (or any two users when the tenant sets `messages.directWithStrangers`), at most
 * one per pair; or a group owned by its creator, within the tenant's
 * group size limit.
 */
export async function createConversation(s: TenantScope, me: string, input: CreateInput, now = Date.now()) {
  const { env, tenant } = s;
  let id: string;
  let memberIds: string[];
  if (input.type === "direct") {
    if (input.userId === me) throw new AppError("cannot_message_self", "A direct conversation needs another user.");
    await requireUsers(s, [input.userId]);
    await requireUnblocked(s, me, [input.userId], tenant.config.messages.directWithStrangers);
    id = await directId(me, input.userId);
    memberIds = [me, input.userId];
  } else {
    memberIds = [...new Set([me, ...input.memberIds])];
    const max = tenant.config.limits.maxGroupMembers;
    if (memberIds.length > max) throw new AppError("group_too_large", `A group has at most ${max} members.`);
    const others = memberIds.filter((u) => u !== me);
    await requireUsers(s, others);
    await requireUnblocked(s, me, others);
    id = `g_${newId(now)}`;
  }
  const stub = conversationStub(env, tenant.id, id);
  const { created } = await stub.create({
    tenantId: tenant.id,
    id,
    type: input.type,
    name: input.type === "group" ? input.name : null,
    ownerId: me,
    memberIds,
    now,
  });
  await indexConversation(s.db, { id, type: input.type, createdBy: me, memberIds, now });
  return { created, summary: valueOf<ConversationSummary>(await stub.get(me)) };
}
