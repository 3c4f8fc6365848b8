/**
 * Brings up what the content benchmark measures, on loopback, in a scratch directory: the local
 * libSQL server and the built bundle under raw workerd (../servers.ts, queue producers bound to a
 * sink so likes publish their outbox rows as in production), two tenants created through the
 * admin API, each with a registered viewer and {@link LIKERS} registered likers, then seeded in
 * place (seed.ts, one child per tenant, in parallel), and the floor (floor.ts) on the same files.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { registerUsers, type Session, userIdOf } from "../auth-users";
import type { Target } from "../measure";
import { start } from "../processes";
import { createTenant, progress, startFloor, startServers, tsx } from "../servers";
import { TENANT_CONFIG } from "../stack";
import { PLANTED, type Planted } from "./corpus";
import type { FloorPlan } from "./floor";
import { followingFeed, PAGE, searchCandidates, searchGuard, type Statement } from "./queries";
import type { SeedResult } from "./seed";

export const TENANTS = ["content-a", "content-b"] as const;
/** Users liking one post at once. */
export const LIKERS = 100;
/**
 * `search.maxHits` raised from its default of 10,000: the common term's ~15,000 hits would
 * otherwise be 400 `query_too_broad`.
 */
export const MAX_HITS = 100_000;
const CONTENT_CONFIG = { ...TENANT_CONFIG, search: { maxHits: MAX_HITS } };

/** A measured workload: the three searches and the following feed. */
export type Workload = Planted["key"] | "feed";
export const WORKLOADS: Workload[] = ["rare", "medium", "common", "feed"];

export interface ContentTenant {
  slug: string;
  /** The tenant database file the libSQL server serves. */
  file: string;
  viewer: Session & { userId: string };
  likers: Session[];
  seed: SeedResult;
  /** Per workload: the route and its floor. */
  targets: Record<Workload, { route: Target; floor: Target }>;
  /** The statements the floor runs, and the search guard (matchCount) per term. */
  statements: Record<Workload, Statement>;
  guards: Record<Planted["key"], Statement>;
}

export interface ContentStack {
  workerOrigin: string;
  workerdLog: string;
  libsqlLog: string;
  tenants: ContentTenant[];
}

/** Runs seed.ts on one tenant's file; resolves with its result line. */
async function seedTenant(root: string, scratch: string, file: string, posts: number, seed: number, viewer: string) {
  const logFile = join(scratch, `seed-${seed}.log`);
  const { proc } = await start({
    name: `seed ${seed}`,
    ...tsx(
      root,
      "bench/content/seed.ts",
      "--db",
      file,
      "--posts",
      String(posts),
      "--seed",
      String(seed),
      "--viewer",
      viewer,
    ),
    cwd: root,
    logFile,
    timeoutMs: 10_000,
  });
  const code = await new Promise<number | null>((resolve) => {
    if (proc.child.exitCode !== null) resolve(proc.child.exitCode);
    else proc.child.once("exit", (c) => resolve(c));
  });
  await proc.stop();
  const log = readFileSync(logFile, "utf8");
  const line = /^seeded (\{.*\})$/m.exec(log);
  if (code !== 0 || !line?.[1]) throw new Error(`seeding ${file} failed (exit ${code}):\n${log.slice(-2000)}`);
  return JSON.parse(line[1]) as SeedResult;
}

/** Ids of public posts by authors other than the likers, one per like burst, from the tenant's file. */
export function likeablePosts(file: string, n: number): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT id FROM posts WHERE visibility = 'public' AND like_count = 0 ORDER BY rowid LIMIT ?")
      .raw(true)
      .all(n) as [string][];
    return rows.map((r) => r[0]);
  } finally {
    db.close();
  }
}

export async function startContentStack(
  root: string,
  scratch: string,
  bundle: string,
  posts: number,
): Promise<ContentStack> {
  const { libsqlLog, workerOrigin, workerdLog, adminToken } = await startServers(root, scratch, bundle, undefined, {
    queueSink: true,
  });

  const prepared: Omit<ContentTenant, "seed" | "targets" | "statements" | "guards">[] = [];
  for (const slug of TENANTS) {
    progress(`creating tenant '${slug}' (search.maxHits ${MAX_HITS}) and registering its viewer and ${LIKERS} likers`);
    const name = await createTenant(workerOrigin, adminToken, { slug, name: slug, config: CONTENT_CONFIG });
    const [viewer] = await registerUsers(workerOrigin, slug, ["viewer"]);
    const likers = await registerUsers(
      workerOrigin,
      slug,
      Array.from({ length: LIKERS }, (_, i) => `liker-${i + 1}`),
    );
    prepared.push({
      slug,
      file: join(scratch, "libsql", `${name}.db`),
      viewer: { ...viewer!, userId: userIdOf(viewer!.accessToken) },
      likers,
    });
  }

  progress(`seeding ${posts} posts into each tenant's database file (both at once)`);
  const seeds = await Promise.all(
    prepared.map((t, i) => seedTenant(root, scratch, t.file, posts, i + 1, t.viewer.userId)),
  );

  const tenants: ContentTenant[] = [];
  for (const [i, t] of prepared.entries()) {
    const statements = {} as Record<Workload, Statement>;
    const guards = {} as Record<Planted["key"], Statement>;
    for (const p of PLANTED) {
      statements[p.key] = await searchCandidates(p.text, t.viewer.userId);
      guards[p.key] = await searchGuard(p.text, MAX_HITS);
    }
    statements.feed = await followingFeed(t.viewer.userId);
    tenants.push({ ...t, seed: seeds[i]!, statements, guards, targets: {} as ContentTenant["targets"] });
  }

  const planFile = join(scratch, "floor-plan.json");
  const plan: FloorPlan[] = tenants.map((t) => ({ db: t.file, statements: t.statements }));
  writeFileSync(planFile, JSON.stringify(plan));
  const floor = await startFloor(root, scratch, "content", "bench/content/floor.ts", "--plan", planFile);

  tenants.forEach((t, i) => {
    const headers = { "x-tenant": t.slug, authorization: `Bearer ${t.viewer.accessToken}` };
    const route = (name: string, path: string, bodyIncludes: string): Target => ({
      name: `${t.slug} ${name}`,
      origin: workerOrigin,
      method: "GET",
      path,
      headers,
      expect: { status: 200, bodyIncludes },
    });
    const floorOf = (key: Workload): Target => ({
      name: `${t.slug} ${key} floor`,
      origin: floor.origin,
      method: "GET",
      path: `/${i}/${key}`,
      headers: {},
      expect: { status: 200, bodyIncludes: '"rows":[[' },
    });
    for (const p of PLANTED)
      t.targets[p.key] = {
        route: route(`search ${p.key}`, `/v1/search?q=${encodeURIComponent(p.text)}&limit=${PAGE}`, '"type":"post"'),
        floor: floorOf(p.key),
      };
    t.targets.feed = {
      route: route("feed", `/v1/feeds/following?limit=${PAGE}`, '"items":[{'),
      floor: floorOf("feed"),
    };
  });
  return { workerOrigin, workerdLog, libsqlLog, tenants };
}
