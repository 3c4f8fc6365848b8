import { searchProfiles } from "../../db/tenant/profiles";
import { matchCount, type Search, searchCommentRows, searchPostRows } from "../../db/tenant/search-query";
import { fold, matchExpression, termsOf, type Term } from "../../db/tenant/search-tokens";
import type { PostRow } from "../../db/tenant/posts";
import type { CursorKeys } from "../../lib/cursor";
import { AppError } from "../../lib/errors";
import { searchQuery } from "../../lib/search-query";
import type { TenantScope } from "../gateway/context";
import type { SearchQuery } from "./search-schemas";
import { leadOf, matchRanges, snippetOf, escapeHtml } from "./search-snippet";
import { commentViews } from "./comment-service";
import { viewsOf } from "./service";
import { circleOf } from "./visibility";

/**
 * GET /v1/search (docs/content.md, "Search"). Cursors are the route's signed (number, string)
 * keys: the number is the offset (relevance), the published time (recent) or 0 (users); the
 * string starts with a fingerprint of the query and its filters, so a cursor only continues the
 * search that issued it (another is 400 `invalid_cursor`).
 */

/** The pager of the route (pagerFor(c, "time-id")), as far as this module needs it. */
export interface SearchPager {
  cursor(keys: CursorKeys<"time-id">): Promise<string>;
}

const tooBroad = (why: string) => new AppError("query_too_broad", why);
const badCursor = () => new AppError("invalid_cursor", "The cursor is not one this search issued.");

/** FNV-1a of the query and its filters: cursors carry it so they only continue the same search. */
function fingerprint(q: SearchQuery): string {
  const s = JSON.stringify([q.q, q.type, q.tag, q.authorId, q.from, q.to, q.sort]);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

/** The cursor's keys for this search: [number, the rest of the string after the fingerprint]. */
function resume(q: SearchQuery, keys: CursorKeys<"time-id"> | undefined): [number, string] | undefined {
  if (!keys) return undefined;
  const fp = `${fingerprint(q)}.`;
  if (!keys[1].startsWith(fp)) throw badCursor();
  return [keys[0], keys[1].slice(fp.length)];
}

/** The terms of the search text; 400 `query_too_broad` when it has none (only punctuation or symbols). */
export function queryTerms(q: string): { terms: Term[]; match: string } {
  const terms = termsOf(fold(q).chars);
  const match = matchExpression(terms);
  if (!match) throw tooBroad("The search text has no word to search for.");
  return { terms, match };
}

/**
 * The snippet of a post: the first match in its body, else its title, else the body's start. A
 * VIP-only post's snippet comes from its title alone, whoever searches.
 */
const postSnippet = (p: PostRow, terms: Term[]) =>
  p.minVipLevel > 0
    ? (snippetOf(p.title, terms) ?? leadOf(p.title))
    : (snippetOf(p.body, terms) ?? snippetOf(p.title, terms) ?? leadOf(p.body));

const time = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

/** What a collected page needs of a row: its key in the recent order (its time and id). */
interface Candidate {
  key: [number, string];
}

/** The relevance pool starts at this many times what the page needs, and widens by it. */
const POOL_FACTOR = 4;

/**
 * One page of matches the viewer may see: checks the cap, then reads the page. Visibility is
 * applied in SQL with the viewer's circle (one hub call), so a page is never short. In relevance
 * order only the best-ranked matches are joined and filtered (the pool); when filtering left the
 * page short while more matches exist, the pool widens (×{@link POOL_FACTOR}) and the page is
 * read again, up to every match (at most the tenant's cap). The cursor holds the offset
 * (relevance) or the last row's key (recent).
 */
async function collect<T extends Candidate>(
  scope: TenantScope,
  me: string,
  q: SearchQuery,
  pg: SearchPager,
  at: [number, string] | undefined,
  read: (s: Search) => Promise<T[]>,
): Promise<{ hits: T[]; terms: Term[]; nextCursor: string | null }> {
  const { terms, match } = queryTerms(q.q);
  const cap = scope.tenant.config.search.maxHits;
  const total = await matchCount(scope.db, match, cap);
  if (total > cap) throw tooBroad(`The search matches more than ${cap} documents; add words or filters.`);
  const base: Search = {
    match,
    circle: await circleOf(scope, me),
    authorId: q.authorId,
    tag: q.tag,
    from: time(q.from),
    to: time(q.to),
    sort: q.sort,
    limit: q.limit + 1,
  };
  const offset = q.sort === "relevance" ? (at?.[0] ?? 0) : 0;
  let rows: T[];
  if (q.sort === "recent") rows = await read({ ...base, before: at });
  else {
    let pool = (offset + q.limit + 1) * POOL_FACTOR;
    for (;;) {
      rows = await read({ ...base, offset, pool });
      if (rows.length > q.limit || pool >= total) break;
      pool *= POOL_FACTOR;
    }
  }
  const hits = rows.slice(0, q.limit);
  const last = hits[hits.length - 1];
  const fp = fingerprint(q);
  const nextCursor =
    rows.length <= q.limit || !last
      ? null
      : await pg.cursor(
          q.sort === "relevance" ? [offset + hits.length, `${fp}.r`] : [last.key[0], `${fp}.${last.key[1]}`],
        );
  return { hits, terms, nextCursor };
}

/** One page of posts matching the search that the viewer may see. */
async function searchPosts(scope: TenantScope, me: string, q: SearchQuery, pg: SearchPager, at?: [number, string]) {
  const read = async (s: Search) =>
    (await searchPostRows(scope.db, s)).map((h) => ({
      ...h,
      key: [h.post.publishedAt ?? 0, h.post.id] as [number, string],
    }));
  const { hits, terms, nextCursor } = await collect(scope, me, q, pg, at, read);
  const views = await viewsOf(
    scope,
    me,
    hits.map((h) => h.post),
  );
  const items = hits.map((h, i) => ({
    type: "post" as const,
    id: h.post.id,
    score: -h.rank,
    snippet: postSnippet(h.post, terms),
    post: views[i]!,
  }));
  return { items, nextCursor };
}

/** One page of comments matching the search, on posts the viewer may see. */
async function searchComments(scope: TenantScope, me: string, q: SearchQuery, pg: SearchPager, at?: [number, string]) {
  const read = async (s: Search) =>
    (await searchCommentRows(scope.db, s)).map((h) => ({
      ...h,
      key: [h.comment.createdAt, h.comment.id] as [number, string],
    }));
  const { hits, terms, nextCursor } = await collect(scope, me, q, pg, at, read);
  const views = await commentViews(
    scope,
    me,
    hits.map((h) => h.comment),
  );
  const items = hits.map((h, i) => ({
    type: "comment" as const,
    id: h.comment.id,
    score: -h.rank,
    snippet: snippetOf(h.comment.body, terms) ?? leadOf(h.comment.body),
    comment: views[i]!,
  }));
  return { items, nextCursor };
}

/**
 * Users: the rules of GET /v1/users (searchable, active, not blocked by them, not oneself;
 * substring of username or nickname; by id), with a score (2 when a name starts with the text,
 * else 1) and a snippet of the nickname (or username) with the match marked.
 */
async function searchUsers(scope: TenantScope, me: string, q: SearchQuery, pg: SearchPager, at?: [number, string]) {
  const text = searchQuery(q.q, { lowercase: true });
  const rows = await searchProfiles(scope.db, me, text, q.limit + 1, at?.[1]);
  const page = rows.slice(0, q.limit);
  // The user search matches a substring anywhere: the snippet's "cjk" kind of term (anywhere, not
  // only at a word start), over the whole folded text.
  const needle: Term[] = [{ kind: "cjk", text: fold(text.text).chars.join(""), at: 0 }];
  const items = page.map(({ user, profile }) => {
    const names = [profile.nickname, user.username ?? ""];
    const hit = names.find((n) => matchRanges(n, needle).length > 0);
    const prefix = names.some((n) => matchRanges(n, needle)[0]?.[0] === 0);
    return {
      type: "user" as const,
      id: user.id,
      score: prefix ? 2 : 1,
      snippet: (hit && snippetOf(hit, needle)) || escapeHtml(profile.nickname),
      user: {
        id: user.id,
        username: user.username,
        nickname: profile.nickname,
        avatarFileId: profile.avatarFileId,
        bio: profile.bio,
        locale: profile.locale,
        region: profile.region,
      },
    };
  });
  const last = page[page.length - 1];
  const nextCursor = rows.length > q.limit && last ? await pg.cursor([0, `${fingerprint(q)}.${last.user.id}`]) : null;
  return { items, nextCursor };
}

/** GET /v1/search for a viewer: posts, comments or users. */
export async function search(
  scope: TenantScope,
  me: string,
  q: SearchQuery,
  pg: SearchPager,
  keys?: CursorKeys<"time-id">,
) {
  const at = resume(q, keys);
  if (q.type === "users") return searchUsers(scope, me, q, pg, at);
  if (q.type === "comments") return searchComments(scope, me, q, pg, at);
  return searchPosts(scope, me, q, pg, at);
}
