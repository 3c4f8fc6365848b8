import type { ServiceModule } from "../gateway/module";
import { archiveConsumer } from "./archive";
import { messageArchiveRoutes } from "./routes";

/** The message archive in the tenant database: search and export across conversations. */
export const messagesModule: ServiceModule = {
  name: "messages",
  routes: [{ base: "/v1", router: messageArchiveRoutes }],
  consumers: [{ queue: "statistics", types: ["message.created"], consume: archiveConsumer }],
};
