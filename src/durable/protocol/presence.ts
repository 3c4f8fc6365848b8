import { z } from "zod";

export type PresenceStatus = "online" | "away" | "offline";
export type PresencePrivacy = "everyone" | "friends" | "nobody";

/** What a viewer may see of a user's presence (null: hidden). */
export interface PresenceView {
  status: PresenceStatus;
  /** When the user's last socket closed (ISO 8601); null if never seen. */
  lastSeenAt: string | null;
}

/** A friend's presence, as listed in a `presence_snapshot` frame. */
export interface FriendPresence extends PresenceView {
  userId: string;
}

/** Client presence frames (the conversation frame schema does not know them). */
export const PresenceFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("presence"), status: z.enum(["online", "away"]) }).strict(),
  z.object({ type: z.literal("presence_sync") }).strict(),
]);
export type PresenceFrame = z.infer<typeof PresenceFrameSchema>;
export const PRESENCE_FRAME_TYPES: readonly string[] = ["presence", "presence_sync"];

/** An offline transition is announced only if no socket came back within this grace. */
export const OFFLINE_GRACE_MS = 8_000;

/** What the sockets tell presence: a socket opened, went away, or sent a presence frame. */
export interface PresenceHooks {
  opened(ws: WebSocket, tenantId: string, privacy: string | null): void;
  gone(ws: WebSocket): void;
  frame(ws: WebSocket, frame: PresenceFrame): void;
}
