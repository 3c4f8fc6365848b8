import type { Circle } from "../../db/tenant/feeds";
import { isFollowing, type PostRow, type PostVisibility } from "../../db/tenant/posts";
import { findUserById } from "../../db/tenant/users";
import { unlocksQuery, vipLevelQuery } from "../../db/tenant/vip";
import { lockFor } from "../../lib/vip-access";
import { hubStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import type { Principal, TenantScope } from "../gateway/context";
import { callerGrants, grantsAll } from "../gateway/middleware/authn";

const EVERY: PostVisibility[] = ["public", "followers", "friends", "private"];

/** Who may delete anyone's post, and see and act on removed and held posts. */
export const MODERATE_POSTS = "posts:moderate";
/** Who may delete anyone's comment, and see and act on held comments. */
export const MODERATE_COMMENTS = "comments:moderate";

/** The 404 of a post the viewer may not see: the same as for no post, never a hint it exists. */
export const postNotFound = () => new AppError("post_not_found", "No such post.");

/**
 * The visibilities of an author's published posts a viewer may see (docs/content.md): all of
 * them for the author; otherwise `public`, `followers` if the viewer follows the author, `friends`
 * if they are friends; null when either blocked the other (blocks hide both ways) or the author
 * is not active (suspended or deleted, as their profile is; an erased author's kept posts show as public). Friendship and blocks are the user
 * hub's (one RPC on the viewer's hub), follows and the author's status the tenant database's.
 */
export async function audienceOf(
  { env, tenant, db }: TenantScope,
  viewer: string,
  author: string,
): Promise<PostVisibility[] | null> {
  if (viewer === author) return EVERY;
  const [rel, following, user] = await Promise.all([
    hubStub(env, tenant.id, viewer).relation(author),
    isFollowing(db, viewer, author),
    findUserById(db, author),
  ]);
  if (rel.blocks || rel.blockedBy || !user) return null;
  // What an erasure kept (privacy.contentOnErasure = anonymize) shows to everyone its visibility was public to.
  if (user.erasedAt !== null) return ["public"];
  if (user.status !== "active") return null;
  return ["public", ...(following ? (["followers"] as const) : []), ...(rel.friend ? (["friends"] as const) : [])];
}

/** Whether the viewer may see this post: its author always; others a published post of their audience. */
export async function maySee(scope: TenantScope, viewer: string, post: PostRow): Promise<boolean> {
  if (viewer === post.authorId) return true;
  if (post.status !== "published") return false;
  return (await audienceOf(scope, viewer, post.authorId))?.includes(post.visibility) ?? false;
}

/** A VIP-only post's body, media and comments are refused to a viewer it is locked for. */
export const vipRequired = () =>
  new AppError("vip_required", "This post is for VIP members (or unlock it with a content product).");

/** Whether a VIP-only post is locked for the viewer (their level and unlocks, read now). */
export async function lockedFor({ db, tenant }: TenantScope, viewer: string, post: PostRow): Promise<boolean> {
  if (post.minVipLevel <= 0 || post.authorId === viewer) return false;
  const [level, unlocks] = await db.batch([
    vipLevelQuery(db, viewer, Date.now()),
    unlocksQuery(db, viewer, [post.id], JSON.parse(post.tags) as string[]),
  ]);
  return lockFor(tenant.config, viewer, level[0]?.level ?? 0, unlocks)(post);
}

/** The viewer's circle for lists that apply visibility in SQL (db/tenant/feeds.ts `visibleTo`): one hub RPC. */
export async function circleOf({ env, tenant }: TenantScope, viewer: string): Promise<Circle> {
  return { viewer, ...(await hubStub(env, tenant.id, viewer).circle()) };
}

/** Whether the caller holds a permission (a moderator's right). */
export async function holds({ db }: TenantScope, principal: Principal, permission: string): Promise<boolean> {
  return grantsAll(await callerGrants(db, principal), permission);
}

/**
 * Whether the caller may see this post: as {@link maySee}, or as a moderator (`posts:moderate`),
 * who also sees removed and held posts (with their status).
 */
export async function maySeeAs(
  scope: TenantScope,
  principal: Extract<Principal, { kind: "user" }>,
  post: PostRow,
): Promise<boolean> {
  if (await maySee(scope, principal.userId, post)) return true;
  return (post.status === "removed" || post.status === "under_review") && holds(scope, principal, MODERATE_POSTS);
}

/**
 * Who a moderator's action is recorded as: the user, or `api_key:<id>` for a tenant server acting
 * with an API key that holds the permission (moderation dashboards run server-side).
 */
export const actorOf = (p: Principal): string => (p.kind === "user" ? p.userId : `api_key:${p.keyId}`);

/** Whose likes and bookmarks a moderator's answer shows: the user's own; none for an API key. */
export const viewerOf = (p: Principal): string => (p.kind === "user" ? p.userId : "");
