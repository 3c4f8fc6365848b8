/**
 * The SQL the routes run, taken from the route's own query functions rather than rewritten: each
 * function runs once against a drizzle handle that records the statement instead of executing it
 * (drizzle's sqlite-proxy shares the SQLite dialect of the libsql driver the Worker uses, so the
 * text and parameters are what the libSQL server receives).
 */
import { drizzle } from "drizzle-orm/sqlite-proxy";
import type { TenantDb } from "../../src/db/client";
import * as schema from "../../src/db/tenant/schema";
import { matchCount, searchPostRows } from "../../src/db/tenant/search-query";
import { fold, matchExpression, termsOf } from "../../src/db/tenant/search-tokens";

/** A statement and its parameters, ready to prepare with `libsql`. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** The route's page size (the default `limit`) and the candidate read it makes for it (limit + 1). */
export const PAGE = 20;
export const CANDIDATES = PAGE + 1;
/** The route's first relevance pool: the page it needs (limit + 1) times this (search-service.ts). */
export const POOL_FACTOR = 4;

async function record(run: (db: TenantDb) => Promise<unknown>): Promise<Statement> {
  let got: Statement | undefined;
  const db = drizzle(
    async (sql, params) => {
      got = { sql, params };
      return { rows: [] };
    },
    { schema },
  );
  await run(db as unknown as TenantDb);
  if (!got) throw new Error("no statement recorded");
  return got;
}

/** The MATCH expression GET /v1/search builds for a search text (search-service.ts `queryTerms`). */
export function matchOf(text: string): string {
  const match = matchExpression(termsOf(fold(text).chars));
  if (!match) throw new Error(`no search term in ${JSON.stringify(text)}`);
  return match;
}

/**
 * The first candidate read of GET /v1/search?q=… for `viewer` (relevance, no filters, the first
 * page): `searchPostRows` with a limit of {@link CANDIDATES}, bm25-ranked.
 */
export function searchCandidates(text: string, viewer: string): Promise<Statement> {
  return record((db) =>
    searchPostRows(db, {
      match: matchOf(text),
      circle: { viewer, friends: [], blocked: [] },
      sort: "relevance",
      limit: CANDIDATES,
      offset: 0,
      pool: CANDIDATES * POOL_FACTOR,
    }),
  );
}

/** The route's query-too-broad guard before it: `matchCount` up to the tenant's cap + 1. */
export function searchGuard(text: string, cap: number): Promise<Statement> {
  return record((db) => matchCount(db, matchOf(text), cap));
}

/** src/db/tenant/feeds.ts's `followingPage`, as far as this module calls it. */
type FollowingPage = (
  db: TenantDb,
  circle: { viewer: string; friends: string[]; blocked: string[] },
  limit: number,
) => Promise<unknown>;

/**
 * GET /v1/feeds/following's first page for a viewer with no friends and no blocks: `followingPage`.
 * feeds.ts is loaded at run time, not imported: it reaches Workers-only types (the outbox's
 * queues) that the bench's Node tsconfig does not have.
 */
export async function followingFeed(viewer: string): Promise<Statement> {
  const feeds = (await import(new URL("../../src/db/tenant/feeds.ts", import.meta.url).href)) as {
    followingPage: FollowingPage;
  };
  return record((db) => feeds.followingPage(db, { viewer, friends: [], blocked: [] }, CANDIDATES));
}
