import { expect } from "vitest";
import { as } from "./auth-helpers";
import { call } from "./helpers";
import type { User } from "./post-helpers";

export interface Comment {
  id: string;
  postId: string;
  parentId: string | null;
  replyToUserId: string | null;
  authorId: string | null;
  author: { id: string; nickname: string } | null;
  body: string;
  status: string;
  deleted: boolean;
  createdAt: string;
  counts: { likes: number; replies: number };
  viewer: { liked: boolean };
  replies?: Comment[];
}

/** Comments on a post (201 expected). */
export async function comment(slug: string, u: User, postId: string, body: string, parentId?: string) {
  const json = parentId ? { body, parentId } : { body };
  const res = await call(`/v1/posts/${postId}/comments`, { method: "POST", ...as(slug, u), json });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<Comment>();
}

/** A post's comment threads as `u` sees them (200 expected). */
export async function threads(slug: string, u: User, postId: string, query = "") {
  const res = await call(`/v1/posts/${postId}/comments${query}`, as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<{ items: Comment[]; nextCursor: string | null }>();
}

/** The post's comment counter as `u` reads it. */
export async function commentCount(slug: string, u: User, postId: string): Promise<number> {
  const res = await call(`/v1/posts/${postId}`, as(slug, u));
  expect(res.status).toBe(200);
  return (await res.json<{ counts: { comments: number } }>()).counts.comments;
}

export const del = (slug: string, u: User, commentId: string) =>
  call(`/v1/comments/${commentId}`, { method: "DELETE", ...as(slug, u) });
