import type { ServiceModule } from "../gateway/module";
import { scrapeRoutes, tenantMetricsRoutes } from "./metrics-routes";

/** Operations: metrics for Prometheus and per tenant (docs/operations.md). */
export const opsModule: ServiceModule = {
  name: "ops",
  routes: [
    { base: "/v1", router: tenantMetricsRoutes },
    { base: "/", router: scrapeRoutes },
  ],
};
