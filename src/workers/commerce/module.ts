import { sweepMoneyKeys } from "../../db/tenant/money-keys";
import type { ServiceModule } from "../gateway/module";
import { commerceConfig } from "./config";
import { orderRoutes } from "./orders";
import { productRoutes } from "./products";
import { providerAdminRoutes } from "./provider-admin";
import { vipRoutes } from "./vip";
import { vipSweep } from "./vip-sweep";
import { reportRoutes } from "./reports";
import { sandboxRoutes } from "./sandbox";
import { topUpRoutes } from "./top-ups";
import { paymentWebhookRoutes } from "./webhooks";
import { walletRoutes } from "./wallet";

/** The wallet on a double-entry ledger, payments, products and orders, VIP (docs/commerce.md). */
export const commerceModule: ServiceModule = {
  name: "commerce",
  routes: [
    { base: "/v1", router: walletRoutes },
    { base: "/v1", router: reportRoutes },
    { base: "/v1", router: topUpRoutes },
    { base: "/v1", router: paymentWebhookRoutes },
    { base: "/v1", router: sandboxRoutes },
    { base: "/v1", router: providerAdminRoutes },
    { base: "/v1", router: productRoutes },
    { base: "/v1", router: orderRoutes },
    { base: "/v1", router: vipRoutes },
  ],
  emits: ["payment.succeeded", "payment.failed", "order.paid", "order.refunded", "vip.changed", "vip.expiring"],
  config: commerceConfig,
  fuzzIds: {
    products: { params: ["productId"], segments: ["products"] },
    orders: { params: ["orderId"], segments: ["orders"] },
    topUps: { params: ["topUpId"], segments: ["top-ups", "sandbox"] },
  },
  sweeps: [
    vipSweep,
    async ({ db }, now): Promise<Record<string, number>> =>
      // Keys replay for 24 h; pruning them hourly is plenty.
      new Date(now).getUTCMinutes() === 7 ? { moneyKeysSwept: await sweepMoneyKeys(db, now) } : {},
  ],
};
