import { expect } from "vitest";
import { as } from "./auth-helpers";
import { call } from "./helpers";
import type { Post, User } from "./post-helpers";

export interface Hit {
  type: string;
  id: string;
  score: number;
  snippet: string;
  post?: Post;
  user?: { id: string; nickname: string; username: string | null };
}
export interface HitPage {
  items: Hit[];
  nextCursor: string | null;
}

/** GET /v1/search with these query parameters, as a user (the raw response). */
export function searchRaw(slug: string, u: { tokens: User["tokens"] }, params: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  return call(`/v1/search?${qs}`, as(slug, u));
}

/** GET /v1/search that must answer 200: the page. */
export async function search(
  slug: string,
  u: { tokens: User["tokens"] },
  params: Record<string, string | number>,
): Promise<HitPage> {
  const res = await searchRaw(slug, u, params);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<HitPage>();
}

/** The ids a search answers (first page). */
export const found = async (slug: string, u: { tokens: User["tokens"] }, q: string, extra = {}) =>
  (await search(slug, u, { q, ...extra })).items.map((h) => h.id);

/** Every page of a search, following nextCursor: the ids in order. */
export async function allPages(
  slug: string,
  u: { tokens: User["tokens"] },
  params: Record<string, string | number>,
): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const page: HitPage = await search(slug, u, cursor ? { ...params, cursor } : params);
    out.push(...page.items.map((h) => h.id));
    cursor = page.nextCursor;
    if (!cursor) return out;
  }
  throw new Error("search paging did not end");
}
