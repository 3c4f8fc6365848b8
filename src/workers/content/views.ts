import type { PostAuthor, PostRow } from "../../db/tenant/posts";
import { iso, isoOrNull } from "../../lib/time";

/** Where a client reads a file's metadata and a fresh download link (files.md). */
const fileUrl = (id: string) => `/v1/files/${id}`;

/**
 * A post as the API answers it. Counters and the viewer's own marks come with the likes,
 * comments and bookmarks stage; until then they are 0 and false.
 */
export function postView(p: PostRow, author: PostAuthor) {
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
    viewer: { liked: false, bookmarked: false },
  };
}
