import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { tenantDb, tenantDbLocation } from "../../src/db/tenant-db";
import { fromBase64url } from "../../src/lib/ids";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call } from "./helpers";

export type User = Awaited<ReturnType<typeof registerUser>>;
export interface Post {
  id: string;
  authorId: string;
  author: { id: string; nickname: string; avatarUrl?: string };
  title: string;
  body: string;
  tags: string[];
  media: { fileId: string }[];
  visibility: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  editedAt: string | null;
  publishedAt: string | null;
  counts: { likes: number; comments: number; bookmarks: number; views: number };
  viewer: { liked: boolean; bookmarked: boolean };
}
const PNG = fromBase64url(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
);
export const VISIBILITIES = ["public", "followers", "friends", "private"] as const;

export async function create(slug: string, u: User, json: Record<string, unknown>): Promise<Post> {
  const res = await call("/v1/posts", { method: "POST", ...as(slug, u), json });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<Post>();
}

export async function upload(slug: string, u: User): Promise<string> {
  const form = new FormData();
  form.set("file", new Blob([PNG], { type: "image/png" }), "a.png");
  form.set("purpose", "attachment");
  const res = await call("/v1/files", { method: "POST", ...as(slug, u), body: form });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

/** The `post.published` events in the tenant's outbox for a post. */
export async function publishedEvents(slug: string, postId: string): Promise<number> {
  const row = await findTenantBySlug(platformDb(env), slug);
  const db = tenantDb(await tenantDbLocation(env, row!));
  const r = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM outbox WHERE type = 'post.published' AND json_extract(data, '$.postId') = ${postId}`,
  );
  return Number(r?.n ?? 0);
}

export const ids = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ items: Post[] }>()).items.map((p) => p.id);
};

/** A tenant whose posts may be 500 characters, its owner, and two members. */
export async function postTenant() {
  const t = await tenantWithOwner({ content: { maxPostChars: 500 } });
  const slug = t.tenant.slug;
  const [author, other] = await Promise.all([registerUser(slug), registerUser(slug)]);
  return { slug, owner: { tokens: t.owner.tokens }, author, other };
}

/** Up to five new members of a tenant, typed as a 5-tuple so destructured names are never undefined. */
export async function members(slug: string, n: 1 | 2 | 3 | 4 | 5): Promise<[User, User, User, User, User]> {
  return (await Promise.all(Array.from({ length: n }, () => registerUser(slug)))) as [User, User, User, User, User];
}

/** A member of the tenant made a moderator by its owner. */
export async function moderator(slug: string, owner: { tokens: User["tokens"] }): Promise<User> {
  const mod = await registerUser(slug);
  const res = await call(`/v1/admin/users/${mod.userId}/roles`, {
    method: "PUT",
    ...as(slug, owner),
    json: { roles: ["moderator", "member"] },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return mod;
}
