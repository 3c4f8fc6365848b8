import type { CommentRow } from "../../db/tenant/comments";
import type { PostAuthor, PostRow } from "../../db/tenant/posts";
import { iso, isoOrNull } from "../../lib/time";

/** Where a client reads a file's metadata and a fresh download link (files.md). */
const fileUrl = (id: string) => `/v1/files/${id}`;

/** An author's display fields. */
const authorView = (a: PostAuthor) => ({
  id: a.id,
  nickname: a.nickname,
  ...(a.avatarFileId ? { avatarUrl: fileUrl(a.avatarFileId) } : {}),
});

/** A viewer's own marks on a post. */
export interface ViewerMarks {
  liked: boolean;
  bookmarked: boolean;
}

/**
 * A post as the API answers it: the counters are the post row's (kept exact by
 * db/tenant/post-reactions.ts), the viewer's marks come from the caller (viewerMarks). A locked
 * VIP-only post shows its title, tags and counts, not its body or media.
 */
export function postView(p: PostRow, author: PostAuthor, viewer: ViewerMarks, locked = false) {
  const vip = p.minVipLevel > 0;
  return {
    id: p.id,
    authorId: p.authorId,
    author: authorView(author),
    title: p.title,
    body: locked ? "" : p.body,
    tags: JSON.parse(p.tags) as string[],
    media: locked ? [] : (JSON.parse(p.media) as string[]).map((fileId) => ({ fileId, url: fileUrl(fileId) })),
    visibility: vip ? ("vip" as const) : p.visibility,
    ...(vip ? { minVipLevel: p.minVipLevel } : {}),
    locked,
    status: p.status,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    editedAt: isoOrNull(p.editedAt),
    publishedAt: isoOrNull(p.publishedAt),
    counts: { likes: p.likeCount, comments: p.commentCount, bookmarks: p.bookmarkCount, views: p.viewCount },
    viewer: { liked: viewer.liked, bookmarked: viewer.bookmarked },
  };
}

/** A comment as the API answers it; a deleted one (a tombstone kept for its replies) shows no author or body. */
export function commentView(c: CommentRow, author: PostAuthor, liked: boolean) {
  const gone = c.deletedAt !== null;
  return {
    id: c.id,
    postId: c.postId,
    parentId: c.parentId,
    replyToUserId: c.replyToUserId,
    authorId: gone ? null : c.authorId,
    author: gone ? null : authorView(author),
    body: gone ? "" : c.body,
    status: c.status,
    deleted: gone,
    createdAt: iso(c.createdAt),
    counts: { likes: c.likeCount, replies: c.replyCount },
    viewer: { liked },
  };
}
