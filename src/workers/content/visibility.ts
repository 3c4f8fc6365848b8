import type { Circle } from "../../db/tenant/feeds";
import { isFollowing, type PostRow, type PostVisibility } from "../../db/tenant/posts";
import { findUserById } from "../../db/tenant/users";
import { hubStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import type { TenantScope } from "../gateway/context";

const EVERY: PostVisibility[] = ["public", "followers", "friends", "private"];

/** The 404 of a post the viewer may not see: the same as for no post, never a hint it exists. */
export const postNotFound = () => new AppError("post_not_found", "No such post.");

/**
 * The visibilities of an author's published posts a viewer may see (docs/content.md): all of
 * them for the author; otherwise `public`, `followers` if the viewer follows the author, `friends`
 * if they are friends; null when either blocked the other (blocks hide both ways) or the author
 * is not active (suspended or deleted, as their profile is). Friendship and blocks are the user
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
  if (rel.blocks || rel.blockedBy || user?.status !== "active") return null;
  return ["public", ...(following ? (["followers"] as const) : []), ...(rel.friend ? (["friends"] as const) : [])];
}

/** Whether the viewer may see this post: its author always; others a published post of their audience. */
export async function maySee(scope: TenantScope, viewer: string, post: PostRow): Promise<boolean> {
  if (viewer === post.authorId) return true;
  if (post.status !== "published") return false;
  return (await audienceOf(scope, viewer, post.authorId))?.includes(post.visibility) ?? false;
}

/** The viewer's circle for lists that apply visibility in SQL (db/tenant/feeds.ts `visibleTo`): one hub RPC. */
export async function circleOf({ env, tenant }: TenantScope, viewer: string): Promise<Circle> {
  return { viewer, ...(await hubStub(env, tenant.id, viewer).circle()) };
}
