import {
  authorsOf,
  authorsQuery,
  findPost,
  insertPost,
  ownReadyFiles,
  updatePost,
  type PostRow,
} from "../../db/tenant/posts";
import { viewerMarksOf, viewerMarksQuery } from "../../db/tenant/post-reactions";
import { unlocksQuery, vipLevelQuery } from "../../db/tenant/vip";
import { lockFor } from "../../lib/vip-access";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { TenantScope } from "../gateway/context";
import type { PostCreate, PostPatch } from "./schemas";
import { mentionedUsers } from "./mentions";
import { classify, heldItemSql, WORDLIST_FINDING } from "../ai-core/hook";
import { moderateFields, moderateTags } from "./moderation-hook";
import { postView } from "./views";

/** The tenant's body limit (`content.maxPostChars`), counted in characters, not UTF-16 units. */
function checkBody({ tenant }: TenantScope, body: string | undefined): void {
  if (body === undefined) return;
  const max = tenant.config.content.maxPostChars;
  if ([...body].length > max)
    throw new AppError("validation_failed", `Invalid body: body is longer than ${max} characters`, {
      errors: [{ path: "body", message: `at most ${max} characters (this tenant's content.maxPostChars)` }],
    });
}

/** Media must be the author's own finished uploads: someone else's, a deleted or an unfinished file is refused. */
async function checkMedia({ db }: TenantScope, authorId: string, ids: string[] | undefined): Promise<void> {
  if (!ids?.length) return;
  if ((await ownReadyFiles(db, authorId, ids)) !== ids.length)
    throw new AppError("invalid_media", "mediaFileIds must be your own finished uploads.");
}

/**
 * How a visibility is stored: `vip` is a public post with a minimum VIP level (listed like a
 * public one; the view locks it), every other visibility has level 0.
 */
function storedVisibility(v: { visibility?: PostCreate["visibility"] | undefined; minVipLevel?: number | undefined }) {
  return v.visibility === "vip"
    ? { visibility: "public" as const, minVipLevel: v.minVipLevel ?? 1 }
    : { visibility: v.visibility ?? ("public" as const), minVipLevel: 0 };
}

/**
 * Posts as the API answers them to a viewer: their authors' display fields and the viewer's own
 * likes and bookmarks, read for the whole page in one batch (one round trip, not one per post).
 */
export async function viewsOf(
  { db, tenant }: TenantScope,
  viewer: string,
  list: PostRow[],
  opts: { moderator?: boolean } = {},
) {
  if (list.length === 0) return [];
  // VIP-only posts of others need the viewer's level and unlocks: read in the same batch. The
  // moderation queue and actions (posts:moderate) show posts whole: a held post must be judged.
  const vip = opts.moderator ? [] : list.filter((p) => p.minVipLevel > 0 && p.authorId !== viewer);
  const now = Date.now();
  const tags = [...new Set(vip.flatMap((p) => JSON.parse(p.tags) as string[]))];
  const [authorRows, markRows, levelRows, unlockRows] = await db.batch([
    authorsQuery(
      db,
      list.map((p) => p.authorId),
    ),
    viewerMarksQuery(
      db,
      viewer,
      list.map((p) => p.id),
    ),
    vipLevelQuery(db, vip.length ? viewer : "", now),
    unlocksQuery(
      db,
      vip.length ? viewer : "",
      vip.map((p) => p.id),
      tags,
    ),
  ]);
  const author = authorsOf(authorRows);
  const marks = viewerMarksOf(markRows);
  const locked = opts.moderator ? () => false : lockFor(tenant.config, viewer, levelRows[0]?.level ?? 0, unlockRows);
  return list.map((p) => postView(p, author(p.authorId), marks(p.id), locked(p)));
}

/** One post as the API answers it to a viewer (see {@link viewsOf}). */
export async function viewOf(scope: TenantScope, viewer: string, post: PostRow, opts: { moderator?: boolean } = {}) {
  return (await viewsOf(scope, viewer, [post], opts))[0]!;
}

/** A post's text as moderation judges it: one item, title, body and tags together. */
const postText = (title: string, body: string, tags: readonly string[]) =>
  [title, body, tags.join(" ")].filter((x) => x !== "").join("\n");

/** Creates a post (and its `post.published` when published) after the tenant's checks. */
export async function createPost(scope: TenantScope, authorId: string, input: PostCreate, now = Date.now()) {
  checkBody(scope, input.body);
  await checkMedia(scope, authorId, input.mediaFileIds);
  const m = moderateFields(scope, { title: input.title ?? "", body: input.body });
  const t = moderateTags(scope, input.tags ?? []);
  // The classifier judges what is published (a draft waits for its publication).
  const finding =
    m.held || t.held
      ? WORDLIST_FINDING
      : input.status === "published"
        ? await classify(scope, postText(m.fields.title, m.fields.body, t.tags ?? []))
        : null;
  // Held by the moderation hook: stored under review instead of published (a draft stays a draft).
  const status = finding && input.status === "published" ? "under_review" : input.status;
  const published = status === "published";
  const post: PostRow = {
    id: newId(now),
    authorId,
    title: m.fields.title,
    body: m.fields.body,
    tags: JSON.stringify(t.tags ?? []),
    media: JSON.stringify(input.mediaFileIds ?? []),
    ...storedVisibility(input),
    status,
    createdAt: now,
    updatedAt: now,
    editedAt: null,
    publishedAt: published ? now : null,
    deletedAt: null,
    likeCount: 0,
    commentCount: 0,
    bookmarkCount: 0,
    viewCount: 0,
  };
  const mentioned = published ? await mentionedUsers(scope, authorId, post, `${post.title}\n${post.body}`) : [];
  const text = postText(post.title, post.body, t.tags ?? []);
  const item =
    status === "under_review" && finding
      ? [heldItemSql({ type: "post", id: post.id, authorId, text }, finding, now)]
      : [];
  await insertPost(scope.db, post, mentioned, item);
  return post;
}

/**
 * Edits the author's post: `createdAt` stays, `updatedAt` and `editedAt` move; a draft that becomes
 * published gets its `publishedAt` (once). A published post may go back to draft (it leaves
 * every list but its author's). A concurrent edit that came first answers 409 `post_edit_conflict`.
 */
export async function editPost(scope: TenantScope, prev: PostRow, patch: PostPatch, now = Date.now()) {
  checkBody(scope, patch.body);
  await checkMedia(scope, prev.authorId, patch.mediaFileIds);
  // Strictly later than the read, so the write's `updated_at` guard tells edits apart.
  const at = Math.max(now, prev.updatedAt + 1);
  const m = moderateFields(scope, { title: patch.title, body: patch.body });
  const t = moderateTags(scope, patch.tags);
  // A removed or held post keeps its status: only moderators change it. An edit the moderation
  // hook holds takes a published post (or one being published) under review; a draft being
  // published is checked as a whole (its text was never checked for review while a draft).
  const asked = prev.status === "draft" || prev.status === "published" ? (patch.status ?? prev.status) : prev.status;
  const publishing = prev.status === "draft" && asked === "published";
  const whole = () =>
    moderateFields(scope, { title: m.fields.title ?? prev.title, body: m.fields.body ?? prev.body }).held ||
    moderateTags(scope, t.tags ?? (JSON.parse(prev.tags) as string[])).held;
  const listed = m.held || t.held || (publishing && whole());
  const tags = t.tags ?? (JSON.parse(prev.tags) as string[]);
  const text = postText(m.fields.title ?? prev.title, m.fields.body ?? prev.body, tags);
  // The classifier judges the text when it changes on a published post, or at its publication.
  const changed = patch.title !== undefined || patch.body !== undefined || patch.tags !== undefined;
  const finding = listed
    ? WORDLIST_FINDING
    : asked === "published" && (publishing || changed)
      ? await classify(scope, text)
      : null;
  const status = asked === "published" && finding ? "under_review" : asked;
  const next: PostRow = {
    ...prev,
    title: m.fields.title ?? prev.title,
    body: m.fields.body ?? prev.body,
    tags: t.tags ? JSON.stringify(t.tags) : prev.tags,
    media: patch.mediaFileIds ? JSON.stringify(patch.mediaFileIds) : prev.media,
    ...(patch.visibility ? storedVisibility(patch) : {}),
    status,
    updatedAt: at,
    editedAt: at,
    publishedAt: prev.publishedAt ?? (status === "published" ? at : null),
  };
  // A first publication notifies the users its text mentions (later edits do not notify again).
  const first = prev.publishedAt === null && next.publishedAt !== null;
  const mentioned = first ? await mentionedUsers(scope, prev.authorId, next, `${next.title}\n${next.body}`) : [];
  const item =
    status === "under_review" && prev.status !== "under_review" && finding
      ? [heldItemSql({ type: "post", id: prev.id, authorId: prev.authorId, text }, finding, at)]
      : [];
  if (!(await updatePost(scope.db, prev, next, { mentioned, statements: item })))
    throw new AppError("post_edit_conflict", "The post changed while this edit was made; read it again.");
  // As committed: the counters are the row's, not the ones read before the edit.
  return (await findPost(scope.db, prev.id)) ?? next;
}
