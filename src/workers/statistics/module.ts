import type { ServiceModule } from "../gateway/module";
import { COUNTED_EVENT_TYPES, statisticsConsumer } from "./consumer";
import { usageRoutes } from "./platform-routes";
import { statsRoutes } from "./routes";

/** Daily rollups of a tenant's activity, and usage across tenants for the platform. */
export const statisticsModule: ServiceModule = {
  name: "statistics",
  routes: [
    { base: "/admin/v1", router: usageRoutes },
    { base: "/v1", router: statsRoutes },
  ],
  consumers: [{ queue: "statistics", types: COUNTED_EVENT_TYPES, consume: statisticsConsumer }],
};
