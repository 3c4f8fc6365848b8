import type { ServiceModule } from "../gateway/module";
import { adminKeyRoutes } from "./keys";
import { adminRoleRoutes } from "./roles";
import { adminUserRoutes } from "./users";

/** A tenant's own administration: its users, roles and API keys. */
export const tenantAdminModule: ServiceModule = {
  name: "tenant-admin",
  routes: [
    { base: "/v1", router: adminUserRoutes },
    { base: "/v1", router: adminRoleRoutes },
    { base: "/v1", router: adminKeyRoutes },
  ],
  emits: ["user.suspended", "user.resumed", "user.deleted", "user.roles_changed"],
  fuzzIds: {
    roles: { segments: ["roles"] },
    apiKeys: { segments: ["api-keys"] },
  },
};
