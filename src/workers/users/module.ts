import type { ServiceModule } from "../gateway/module";
import { followRoutes } from "./follows";
import { userRoutes } from "./routes";

/** Profiles, search and follows. */
export const usersModule: ServiceModule = {
  name: "users",
  routes: [
    { base: "/v1", router: userRoutes },
    { base: "/v1", router: followRoutes },
  ],
  emits: ["profile.updated"],
  fuzzIds: {
    users: { params: ["userId", "toUserId", "userIds", "memberIds", "memberId"], segments: ["users"] },
  },
};
