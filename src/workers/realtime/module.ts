import type { ServiceModule } from "../gateway/module";
import { realtimeConfig } from "./config";
import { realtimeRoutes } from "./connect";
import { conversationRoutes } from "./conversations";
import { messageRoutes } from "./messages";

/** Sockets, conversations and messages (held by the Conversation and UserHub objects), presence. */
export const realtimeModule: ServiceModule = {
  name: "realtime",
  routes: [
    { base: "/v1", router: realtimeRoutes },
    { base: "/v1", router: conversationRoutes },
    { base: "/v1", router: messageRoutes },
  ],
  emits: ["message.created", "connection.opened", "connection.closed", "presence.status", "presence.privacy"],
  config: realtimeConfig,
  fuzzIds: {
    conversations: { params: ["conversationId"], segments: ["conversations"] },
    messages: { params: ["messageId"], segments: ["messages"] },
  },
};
