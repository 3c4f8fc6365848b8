import type { ServiceModule } from "../gateway/module";
import { contentConfig } from "./config";
import { postListRoutes } from "./lists";
import { postRoutes } from "./routes";

/** Posts with visibility (docs/content.md); comments, likes, feeds and search come in later stages. */
export const contentModule: ServiceModule = {
  name: "content",
  routes: [
    { base: "/v1", router: postRoutes },
    { base: "/v1", router: postListRoutes },
  ],
  emits: ["post.published"],
  config: contentConfig,
  fuzzIds: {
    posts: { params: ["postId"], segments: ["posts"] },
  },
};
