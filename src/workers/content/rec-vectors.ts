import { nearest, similarities, vectorsOf, weightedMean } from "../../db/tenant/embeddings";
import { interactedAmong, type Seed } from "../../db/tenant/recommend";
import { embeddingSpace } from "../ai-core/embeddings";
import type { TenantScope } from "../gateway/context";

/**
 * The vector half of recommendations (docs/ai.md, Vectors): when the tenant has vectors on, a
 * candidate's score is `0.7 · cf + 0.3 · cosine`, cf being its collaborative-filtering score
 * (in [0, 1]) and cosine its vector's similarity to the viewer's taste (the weighted mean of
 * their seed posts' vectors) or to the post it is similar to, negative similarity counting 0.
 * Reading makes no provider call: every vector was made when its post was published.
 */

export const CF_WEIGHT = 0.7;
export const VECTOR_WEIGHT = 0.3;
/** The vector index proposes this many nearest posts. */
const VECTOR_CANDIDATES = 100;

/** Blended scores by post id, from cf scores in [0, 1] and similarities. */
function blend(cf: Map<string, number>, sim: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of new Set([...cf.keys(), ...sim.keys()]))
    out.set(id, CF_WEIGHT * (cf.get(id) ?? 0) + VECTOR_WEIGHT * Math.max(0, sim.get(id) ?? 0));
  return out;
}

/** The similarity to `q` of the nearest posts and of every cf candidate, `skip` aside. */
async function similaritiesFor(
  s: TenantScope,
  model: string,
  q: Float32Array,
  cf: Map<string, number>,
  skip: (ids: string[]) => Promise<Set<string>>,
): Promise<Map<string, number>> {
  const near = await nearest(s.db, "post", q, VECTOR_CANDIDATES, model);
  const sim = new Map(near.map((n) => [n.id, n.similarity]));
  const missing = [...cf.keys()].filter((id) => !sim.has(id));
  for (const [id, v] of await similarities(s.db, "post", q, missing, model)) sim.set(id, v);
  for (const id of await skip([...sim.keys()].filter((id) => !cf.has(id)))) sim.delete(id);
  return sim;
}

/**
 * The viewer's blended scores, or null when vectors are off or none of their seeds has a
 * vector yet (the caller keeps the cf scores alone). `cf` holds cf scores in [0, 1]; posts the
 * vector index adds are never ones the viewer interacted with.
 */
export async function blendForViewer(
  s: TenantScope,
  viewer: string,
  seeds: Seed[],
  cf: Map<string, number>,
): Promise<Map<string, number> | null> {
  const space = await embeddingSpace(s);
  if (!space || !seeds.length) return null;
  const vectors = await vectorsOf(
    s.db,
    "post",
    seeds.map((x) => x.postId),
    space.model,
  );
  const taste = weightedMean(
    seeds.flatMap((x) => (vectors.has(x.postId) ? [{ v: vectors.get(x.postId)!, w: x.weight }] : [])),
  );
  if (!taste) return null;
  const sim = await similaritiesFor(s, space.model, taste, cf, (ids) => interactedAmong(s.db, viewer, ids));
  return blend(cf, sim);
}

/** A post's blended neighbours, or null when vectors are off or the post has no vector. */
export async function blendForPost(
  s: TenantScope,
  postId: string,
  cf: Map<string, number>,
): Promise<Map<string, number> | null> {
  const space = await embeddingSpace(s);
  if (!space) return null;
  const v = (await vectorsOf(s.db, "post", [postId], space.model)).get(postId);
  if (!v) return null;
  const sim = await similaritiesFor(s, space.model, v, cf, async () => new Set([postId]));
  return blend(cf, sim);
}
