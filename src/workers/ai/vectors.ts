import { z } from "zod";
import { type EmbeddingKind, embeddedAt, staleArticles, stalePosts, storeEmbeddings } from "../../db/tenant/embeddings";
import { articlesByIds } from "../../db/tenant/knowledge";
import { postsByIds } from "../../db/tenant/posts";
import type { PostRow } from "../../db/tenant/schema";
import { embedMetered, type EmbeddingSpace, embeddingSpace } from "../ai-core/embeddings";
import { PoisonError, type Consumer } from "../events/queues";
import type { TenantScope } from "../gateway/context";

/**
 * Writes the vectors of posts and articles (docs/ai.md, Vectors) when the tenant has them on:
 * a post when `post.published` reaches the `ai` queue, an article after each write, and the
 * minute sweep for whatever those missed (a provider down, the pool exhausted, a post edited
 * within the day, vectors turned on or the model changed). Metered to the pool only
 * (`embeddings.auto`): nobody's own quota pays for the tenant's indexing.
 */

/** One embedding call carries at most this many texts. */
const BATCH = 16;
/** The sweep re-embeds posts published within this window (older ones keep their vector). */
export const POST_SWEEP_WINDOW_MS = 86_400_000;
/** The sweep embeds at most this many posts and articles per tenant and run. */
const SWEEP_MAX = 32;

const noWait = () => undefined;
const textOf = (title: string | null, body: string) => (title ? `${title}\n\n${body}` : body);

interface Source {
  id: string;
  sourceAt: number;
  text: string;
}

/** Embeds sources in one metered call and stores their vectors; the number stored. */
async function embedSources(s: TenantScope, space: EmbeddingSpace, kind: EmbeddingKind, sources: Source[]) {
  if (!sources.length) return 0;
  const vectors = await embedMetered(
    s,
    space,
    sources.map((x) => x.text),
    { userId: null, feature: "embeddings.auto" },
    noWait,
  );
  if (!vectors) return 0;
  await storeEmbeddings(
    s.db,
    kind,
    space.model,
    sources.map((x, i) => ({ id: x.id, sourceAt: x.sourceAt, v: vectors[i]! })),
  );
  return sources.length;
}

/** Embeds the live posts among `rows`. */
function embedPostRows(s: TenantScope, space: EmbeddingSpace, posts: PostRow[]): Promise<number> {
  const rows = posts.filter((p) => p.status === "published" && p.deletedAt === null);
  return embedSources(
    s,
    space,
    "post",
    rows.map((p) => ({ id: p.id, sourceAt: p.updatedAt, text: textOf(p.title, p.body) })),
  );
}

/** Embeds the live articles among `ids`. */
async function embedArticles(s: TenantScope, space: EmbeddingSpace, ids: string[]): Promise<number> {
  const rows = await articlesByIds(s.db, ids);
  return embedSources(
    s,
    space,
    "article",
    rows.map((a) => ({ id: a.id, sourceAt: a.updatedAt, text: textOf(a.title, a.body) })),
  );
}

async function inBatches(ids: string[], each: (batch: string[]) => Promise<number>): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += BATCH) n += await each(ids.slice(i, i + BATCH));
  return n;
}

/** An article was written: embed it now (its route waits on this after answering). */
export async function embedArticleSoon(s: TenantScope, id: string): Promise<void> {
  try {
    const space = await embeddingSpace(s);
    if (space) await embedArticles(s, space, [id]);
  } catch (err) {
    // The minute sweep tries again.
    console.warn(JSON.stringify({ msg: "article embedding failed", id, error: String(err) }));
  }
}

const Published = z.object({ postId: z.string().min(1).max(128) });

/** `post.published`: the post's vector, when vectors are on (a repeat finds it current and does nothing). */
export const vectorConsumer: Consumer = async (event, s) => {
  const parsed = Published.safeParse(event.data);
  if (!parsed.success) throw new PoisonError(`${event.type}: invalid data`);
  const space = await embeddingSpace(s);
  if (!space) return;
  const { postId } = parsed.data;
  const [[post], at] = await Promise.all([postsByIds(s.db, [postId]), embeddedAt(s.db, "post", postId, space.model)]);
  if (post && (at === null || at < post.updatedAt)) await embedPostRows(s, space, [post]);
};

/** The minute sweep: what the writes above missed, at most SWEEP_MAX of each per tenant. */
export async function sweepVectors(s: TenantScope, now: number): Promise<Record<string, number>> {
  const space = await embeddingSpace(s);
  if (!space) return {};
  const posts = await inBatches(await stalePosts(s.db, space.model, now - POST_SWEEP_WINDOW_MS, SWEEP_MAX), async (b) =>
    embedPostRows(s, space, await postsByIds(s.db, b)),
  );
  const articles = await inBatches(await staleArticles(s.db, space.model, SWEEP_MAX), (b) =>
    embedArticles(s, space, b),
  );
  const out: Record<string, number> = {};
  if (posts) out.aiPostVectors = posts;
  if (articles) out.aiArticleVectors = articles;
  return out;
}
