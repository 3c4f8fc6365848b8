import type { ServiceModule } from "../gateway/module";
import { contentConfig } from "./config";
import { postListRoutes } from "./lists";
import { reactionRoutes } from "./reactions";
import { postRoutes } from "./routes";

/** Posts with visibility (docs/content.md); likes and bookmarks (reactions.ts); comments, feeds and search come in later stages. */
export const contentModule: ServiceModule = {
  name: "content",
  routes: [
    { base: "/v1", router: postRoutes },
    { base: "/v1", router: postListRoutes },
    { base: "/v1", router: reactionRoutes },
  ],
  emits: ["post.published", "post.liked"],
  config: contentConfig,
  fuzzIds: {
    posts: { params: ["postId"], segments: ["posts"] },
  },
};
