import { ok, refuse, type Refusal } from "../protocol/result";
import type { LogKind, MessageView } from "../protocol/frames";
import { deleteMember, insertMember, latestSeq, setMuted, setRole, writeMeta } from "./store";
import type { ConvResult, MemberRole, MemberView, MembershipChange } from "./types";

/** What the membership operations need of the Conversation object. */
export interface GroupContext {
  sql: SqlStorage;
  meta: Map<string, string>;
  members: Map<string, MemberView>;
  /** Appends an event to the log and delivers it to the members (plus `alsoTo`, e.g. who was removed). */
  emit(actorId: string, kind: LogKind, body: unknown, now: number, alsoTo?: string[]): MessageView;
}

export const notFound = refuse("conversation_not_found", "No such conversation.");
const insufficient = refuse("insufficient_role", "Your role in this group does not allow this.");
const noMember = refuse("member_not_found", "That user is not a member of this conversation.");
const none: MembershipChange = { added: [], removed: [] };

type Check = { ok: true; me: MemberView } | Refusal;

/** The caller as a member of a group (non-members: not_found; direct conversations: not_a_group). */
function member(ctx: GroupContext, userId: string, roles?: MemberRole[]): Check {
  const me = ctx.members.get(userId);
  if (!me) return notFound;
  if (ctx.meta.get("type") !== "group") return refuse("not_a_group", "Direct conversations have no group management.");
  if (roles && !roles.includes(me.role)) return insufficient;
  return { ok: true, me };
}

/** Adds members (owner/admins), within the tenant's group size; existing members are skipped. */
export function addMembers(
  ctx: GroupContext,
  actor: string,
  userIds: string[],
  max: number,
  now: number,
): ConvResult<MembershipChange> {
  const c = member(ctx, actor, ["owner", "admin"]);
  if (!c.ok) return c;
  const added = [...new Set(userIds)].filter((u) => !ctx.members.has(u));
  if (added.length === 0) return ok(none);
  if (ctx.members.size + added.length > max) return refuse("group_too_large", `A group has at most ${max} members.`);
  // New members start with everything before their joining read (the history stays visible).
  const readSeq = latestSeq(ctx.sql);
  for (const userId of added) {
    const m: MemberView = { userId, role: "member", joinedAt: now, readSeq, muted: false };
    insertMember(ctx.sql, m);
    ctx.members.set(userId, m);
  }
  ctx.emit(actor, "system", { event: "members_added", userIds: added }, now);
  return ok({ added, removed: [] });
}

/** Removes a member: the owner removes anyone; admins remove plain members only. */
export function removeMember(
  ctx: GroupContext,
  actor: string,
  target: string,
  now: number,
): ConvResult<MembershipChange> {
  if (actor === target) return leave(ctx, actor, now);
  const c = member(ctx, actor, ["owner", "admin"]);
  if (!c.ok) return c;
  const t = ctx.members.get(target);
  if (!t) return noMember;
  if (c.me.role === "admin" && t.role !== "member") return insufficient;
  deleteMember(ctx.sql, target);
  ctx.members.delete(target);
  ctx.emit(actor, "system", { event: "member_removed", userId: target }, now, [target]);
  return ok({ added: [], removed: [target] });
}

/**
 * Leaves a group. An owner leaving hands the group to the oldest admin, or else the oldest
 * member (by joining time); the last member leaving leaves an empty, ownerless log.
 */
export function leave(ctx: GroupContext, actor: string, now: number): ConvResult<MembershipChange> {
  const c = member(ctx, actor);
  if (!c.ok) return c;
  deleteMember(ctx.sql, actor);
  ctx.members.delete(actor);
  const body: Record<string, unknown> = { event: "member_left", userId: actor };
  if (c.me.role === "owner") {
    const rest = [...ctx.members.values()].sort((a, b) => a.joinedAt - b.joinedAt || a.userId.localeCompare(b.userId));
    const next = rest.find((m) => m.role === "admin") ?? rest[0];
    if (next) {
      setRole(ctx.sql, next.userId, "owner");
      next.role = "owner";
      body.newOwnerId = next.userId;
    }
    writeMeta(ctx.sql, { ownerId: next?.userId ?? "" });
    ctx.meta.set("ownerId", next?.userId ?? "");
  }
  ctx.emit(actor, "system", body, now, [actor]);
  return ok({ added: [], removed: [actor] });
}

/** Renames a group (owner/admins). */
export function rename(ctx: GroupContext, actor: string, name: string, now: number): ConvResult<MembershipChange> {
  const c = member(ctx, actor, ["owner", "admin"]);
  if (!c.ok) return c;
  if (ctx.meta.get("name") === name) return ok(none);
  writeMeta(ctx.sql, { name });
  ctx.meta.set("name", name);
  ctx.emit(actor, "system", { event: "renamed", name }, now);
  return ok(none);
}

/**
 * Changes a member's role (owner only): `admin`/`member` promotes or demotes; `owner` transfers
 * ownership, the previous owner becoming an admin. The owner cannot demote itself (transfer first).
 */
export function changeRole(
  ctx: GroupContext,
  actor: string,
  target: string,
  role: MemberRole,
  now: number,
): ConvResult<MembershipChange> {
  const c = member(ctx, actor, ["owner"]);
  if (!c.ok) return c;
  const t = ctx.members.get(target);
  if (!t) return noMember;
  if (t.role === role) return ok(none);
  if (target === actor) return refuse("owner_must_transfer", "Transfer ownership to another member first.");
  if (role === "owner") {
    setRole(ctx.sql, actor, "admin");
    c.me.role = "admin";
    writeMeta(ctx.sql, { ownerId: target });
    ctx.meta.set("ownerId", target);
  }
  setRole(ctx.sql, target, role);
  t.role = role;
  const event =
    role === "owner"
      ? { event: "owner_transferred", from: actor, to: target }
      : { event: "role_changed", userId: target, role };
  ctx.emit(actor, "system", event, now);
  return ok(none);
}

/** Mutes or unmutes the conversation for the caller (any conversation; private, not on the log). */
export function mute(ctx: GroupContext, actor: string, muted: boolean): ConvResult<{ muted: boolean }> {
  const me = ctx.members.get(actor);
  if (!me) return notFound;
  setMuted(ctx.sql, actor, muted);
  me.muted = muted;
  return ok({ muted });
}
