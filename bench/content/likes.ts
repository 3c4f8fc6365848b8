/**
 * 100 concurrent likes of one post: every liker sends `PUT /v1/posts/{id}/like` on a connection
 * of its own, all at once; the burst's time runs from the first send to the last answer. Then
 * the post's like_count and its post_likes rows are read from the tenant's file: both must equal
 * the number of likers (the counter moves only when a row was inserted, in the same batch).
 */
import { Agent } from "node:http";
import Database from "libsql";
import type { Session } from "../auth-users";
import { send } from "../measure";

export interface LikeBurst {
  likers: number;
  /** Answers that were 200. */
  ok: number;
  /** Statuses of the other answers (or socket errors), by count. */
  failures: Record<string, number>;
  ms: number;
  likesPerSecond: number;
  likeCount: number;
  likeRows: number;
}

export async function likeBurst(
  origin: string,
  tenant: string,
  file: string,
  postId: string,
  likers: Session[],
): Promise<LikeBurst> {
  const agents = likers.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const failures: Record<string, number> = {};
  let ok = 0;
  const t0 = process.hrtime.bigint();
  try {
    await Promise.all(
      likers.map(async (u, i) => {
        try {
          const r = await send(
            agents[i]!,
            {
              name: "like",
              origin,
              method: "PUT",
              path: `/v1/posts/${postId}/like`,
              headers: { "x-tenant": tenant, authorization: `Bearer ${u.accessToken}` },
            },
            30_000,
          );
          if (r.status === 200) ok++;
          else failures[String(r.status)] = (failures[String(r.status)] ?? 0) + 1;
        } catch (err) {
          const key = err instanceof Error ? err.message.slice(0, 80) : String(err);
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }),
    );
  } finally {
    for (const a of agents) a.destroy();
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const db = new Database(file, { readonly: true });
  try {
    const [likeCount] = db.prepare("SELECT like_count FROM posts WHERE id = ?").raw(true).get(postId) as [number];
    const [likeRows] = db.prepare("SELECT count(*) FROM post_likes WHERE post_id = ?").raw(true).get(postId) as [
      number,
    ];
    return {
      likers: likers.length,
      ok,
      failures,
      ms,
      likesPerSecond: (likers.length * 1000) / ms,
      likeCount,
      likeRows,
    };
  } finally {
    db.close();
  }
}
