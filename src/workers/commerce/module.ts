import { sweepMoneyKeys } from "../../db/tenant/money-keys";
import type { ServiceModule } from "../gateway/module";
import { commerceConfig } from "./config";
import { reportRoutes } from "./reports";
import { walletRoutes } from "./wallet";

/** The wallet on a double-entry ledger, payments, products and orders, VIP (docs/commerce.md). */
export const commerceModule: ServiceModule = {
  name: "commerce",
  routes: [
    { base: "/v1", router: walletRoutes },
    { base: "/v1", router: reportRoutes },
  ],
  config: commerceConfig,
  sweeps: [
    async ({ db }, now): Promise<Record<string, number>> =>
      // Keys replay for 24 h; pruning them hourly is plenty.
      new Date(now).getUTCMinutes() === 7 ? { moneyKeysSwept: await sweepMoneyKeys(db, now) } : {},
  ],
};
