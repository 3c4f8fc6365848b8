import { sweepPackHolds } from "../../db/tenant/ai-quota";
import type { ServiceModule } from "../gateway/module";
import { aiConfig } from "./config";
import { grantRoutes } from "./grant-routes";
import { moderateRoutes } from "./moderate-routes";
import { quotaRoutes } from "./quota-routes";

/** AI with quotas: metered calls against each user's quota and the tenant's pool (docs/ai.md). */
export const aiModule: ServiceModule = {
  name: "ai",
  routes: [
    { base: "/v1", router: quotaRoutes },
    { base: "/v1", router: grantRoutes },
    { base: "/v1", router: moderateRoutes },
  ],
  emits: ["ai.quota.warning", "ai.quota.granted"],
  config: aiConfig,
  sweeps: [
    // Pack units held by calls that never settled (their Worker died) go back once their hold expires.
    async ({ db }, now): Promise<Record<string, number>> => {
      const n = await sweepPackHolds(db, now);
      return n ? { aiPackHoldsSwept: n } : {};
    },
  ],
};
