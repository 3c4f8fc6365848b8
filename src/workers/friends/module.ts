import type { ServiceModule } from "../gateway/module";
import { blockRoutes } from "./blocks";
import { friendsConfig } from "./config";
import { friendRoutes } from "./friends";
import { friendRequestRoutes } from "./requests";
import { suggestedRoutes } from "./suggested";

/** The friend graph (held by each user's hub): requests, friends, groups, blocks. */
export const friendsModule: ServiceModule = {
  name: "friends",
  routes: [
    { base: "/v1", router: friendRequestRoutes },
    { base: "/v1", router: friendRoutes },
    { base: "/v1", router: blockRoutes },
    { base: "/v1", router: suggestedRoutes },
  ],
  emits: [
    "friend.requested",
    "friend.request.received",
    "friend.accepted",
    "friend.removed",
    "user.blocked",
    "user.unblocked",
  ],
  config: friendsConfig,
  fuzzIds: {
    friendRequests: { segments: ["requests"] },
    friendGroups: { params: ["groupId"], segments: ["groups"] },
  },
};
