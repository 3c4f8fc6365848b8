import type { ServiceModule } from "../gateway/module";
import { tenantRoutes } from "./routes";

/** What a tenant's clients may read about their tenant. */
export const tenantModule: ServiceModule = {
  name: "tenant",
  routes: [{ base: "/v1", router: tenantRoutes }],
};
