import type { ServiceModule } from "../gateway/module";
import { webhookConsumer } from "./consumer";
import { webhookRoutes } from "./routes";
import { webhookSweep } from "./sweep";

/** Tenant webhooks: endpoints, signed deliveries with retries, the delivery log. */
export const webhooksModule: ServiceModule = {
  name: "webhooks",
  routes: [{ base: "/v1", router: webhookRoutes }],
  // A tenant may subscribe to any type.
  consumers: [{ queue: "notification", types: "all", consume: webhookConsumer }],
  sweeps: [webhookSweep],
  emits: ["webhook.disabled", "webhook.test"],
  fuzzIds: {
    webhooks: { segments: ["webhooks"] },
    deliveries: { params: ["deliveryId"], segments: ["deliveries"] },
  },
};
