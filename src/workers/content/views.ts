import type { PostAuthor, PostRow } from "../../db/tenant/posts";
import { iso, isoOrNull } from "../../lib/time";

/** Where a client reads a file's metadata and a fresh download link (files.md). */
const fileUrl = (id: string) => `/v1/files/${id}`;

/** A viewer's own marks on a post. */
export interface ViewerMarks {
  liked: boolean;
  bookmarked: boolean;
}

/**
 * A post as the API answers it: the counters are the post row's (kept exact by
 * db/tenant/post-reactions.ts), the viewer's marks come from the caller (viewerMarks).
 */
export function postView(p: PostRow, author: PostAuthor, viewer: ViewerMarks) {
  return {
    id: p.id,
    authorId: p.authorId,
    author: {
      id: p.authorId,
      nickname: author.nickname,
      ...(author.avatarFileId ? { avatarUrl: fileUrl(author.avatarFileId) } : {}),
    },
    title: p.title,
    body: p.body,
    tags: JSON.parse(p.tags) as string[],
    media: (JSON.parse(p.media) as string[]).map((fileId) => ({ fileId, url: fileUrl(fileId) })),
    visibility: p.visibility,
    status: p.status,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    editedAt: isoOrNull(p.editedAt),
    publishedAt: isoOrNull(p.publishedAt),
    counts: { likes: p.likeCount, comments: p.commentCount, bookmarks: p.bookmarkCount },
    viewer: { liked: viewer.liked, bookmarked: viewer.bookmarked },
  };
}
