import type { MessageInput, MessageKind } from "../protocol/frames";
import type { MemberView } from "./types";
import { hubStub } from "../protocol/stubs";

/** The user ids a message's body mentions (text only; the frame schema caps them at 50). */
export function mentionsIn(kind: MessageKind, body: unknown): string[] {
  if (kind !== "text" || !body || typeof body !== "object" || !("mentions" in body)) return [];
  const m = (body as { mentions: unknown }).mentions;
  return Array.isArray(m) ? [...new Set(m.filter((x): x is string => typeof x === "string"))] : [];
}

/**
 * Who among the mentioned a mention may notify: members of the conversation, not the sender, who
 * did not mute it. A body names whatever ids its sender likes; a mention notification carries the
 * sender's text, so it must reach no one the message itself would not. Blocks (either way) are
 * the sender's hub's to tell and are dropped by the caller.
 */
export function mentionable(members: ReadonlyMap<string, MemberView>, senderId: string, mentioned: string[]): string[] {
  return mentioned.filter((u) => u !== senderId && members.has(u) && !members.get(u)!.muted);
}

/**
 * Whom a message's mentions notify: the mentionable members minus anyone with a block either way
 * with the sender, as the sender's hub vouched with the send (socket frames) or answers when
 * asked (one call, only when a message mentions such members). `asked` says the send waited.
 */
export async function notifiedMentions(
  env: Env,
  tenantId: string,
  members: ReadonlyMap<string, MemberView>,
  userId: string,
  input: MessageInput,
  vouched: string[] | undefined,
): Promise<{ ids: string[]; asked: boolean }> {
  const candidates = mentionable(members, userId, mentionsIn(input.kind, input.body));
  if (candidates.length === 0) return { ids: [], asked: false };
  const blocked = vouched ?? (await hubStub(env, tenantId, userId).blockedAmong(candidates));
  return { ids: candidates.filter((u) => !blocked.includes(u)), asked: vouched === undefined };
}
