import type { ServiceModule } from "../gateway/module";
import { commentRoutes } from "./comments";
import { contentConfig } from "./config";
import { feedRoutes } from "./feeds";
import { moderationRoutes } from "./moderation";
import { moderationQueueRoutes } from "./moderation-queue";
import { reportRoutes } from "./reports";
import { postListRoutes } from "./lists";
import { reactionRoutes } from "./reactions";
import { recommendedRoutes } from "./recommended";
import { postRoutes } from "./routes";
import { searchAdminRoutes } from "./search-admin";
import { searchRoutes } from "./search";

/** Posts with visibility (docs/content.md): likes and bookmarks (reactions.ts), comments, feeds and views, search, reports and moderation. */
export const contentModule: ServiceModule = {
  name: "content",
  routes: [
    { base: "/v1", router: postRoutes },
    { base: "/v1", router: postListRoutes },
    { base: "/v1", router: reactionRoutes },
    { base: "/v1", router: searchRoutes },
    { base: "/v1", router: searchAdminRoutes },
    { base: "/v1", router: commentRoutes },
    { base: "/v1", router: feedRoutes },
    { base: "/v1", router: recommendedRoutes },
    { base: "/v1", router: reportRoutes },
    { base: "/v1", router: moderationRoutes },
    { base: "/v1", router: moderationQueueRoutes },
  ],
  emits: [
    "post.published",
    "post.removed",
    "post.liked",
    "post.viewed",
    "post.bookmarked",
    "comment.created",
    "comment.liked",
    "moderation.decided",
    "moderation.appealed",
  ],
  config: contentConfig,
  fuzzIds: {
    posts: { params: ["postId"], segments: ["posts"] },
    comments: { params: ["commentId", "parentId"], segments: ["comments"] },
    tags: { segments: ["tags"], names: true },
    reports: { segments: ["reports"] },
    moderationItems: { segments: ["moderation"] },
  },
};
