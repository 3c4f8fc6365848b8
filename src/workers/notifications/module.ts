import type { ServiceModule } from "../gateway/module";
import { announcementRoutes } from "./announce-routes";
import { notificationConsumer } from "./consumer";
import { emailDigestSweep } from "./digest-sweep";
import { notificationRoutes } from "./routes";

/** The notification inbox, push, email (one mail each or an hourly digest), and tenant-wide announcements. */
export const notificationsModule: ServiceModule = {
  name: "notifications",
  routes: [
    { base: "/v1", router: notificationRoutes },
    { base: "/v1", router: announcementRoutes },
  ],
  // Every type: the consumer picks what it notifies about (and the queue carries webhooks too).
  consumers: [{ queue: "notification", types: "all", consume: notificationConsumer }],
  sweeps: [emailDigestSweep],
  emits: ["announcement.created"],
  fuzzIds: { notifications: { segments: ["notifications"] } },
};
