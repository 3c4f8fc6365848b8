import type { ServiceModule } from "../gateway/module";
import { devMailRoutes } from "./dev-mail-routes";
import { adminEventRoutes } from "./events-routes";
import { adminRoutes } from "./routes";
import { closeTenantSockets, TENANT_CLOSED } from "./sockets";

/** The platform API: tenants, their lifecycle, the event pipeline's operator view. */
export const adminModule: ServiceModule = {
  name: "admin",
  routes: [
    { base: "/admin/v1", router: adminRoutes },
    { base: "/admin/v1", router: adminEventRoutes },
    { base: "/admin/v1", router: devMailRoutes },
  ],
  platformEvents: [{ queue: "notification", type: TENANT_CLOSED, handle: closeTenantSockets }],
  emits: [TENANT_CLOSED],
  fuzzIds: {
    tenants: { params: ["slug"], segments: ["tenants"] },
    deadLetters: { segments: ["dead-letters"] },
  },
};
