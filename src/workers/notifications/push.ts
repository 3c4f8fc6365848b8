import { log } from "../../lib/log";

/** What a push notification carries to a user's offline devices. */
export interface PushMessage {
  tenantId: string;
  userId: string;
  notificationId: string;
  type: string;
  title: string;
  body: string;
  /** The number a badge shows (the user's unread notifications). */
  badge: number;
  data: Record<string, unknown>;
}

/**
 * The port to a push service (APNs, FCM, Web Push, or an aggregator such as OneSignal). Canopy
 * only decides who gets what; device tokens and provider credentials live behind this.
 */
export interface PushProvider {
  readonly name: string;
  send(msg: PushMessage): Promise<void>;
}

/** Local and test implementation: one JSON log line per push, nothing leaves the machine. */
export class LoggingPushProvider implements PushProvider {
  readonly name = "log";
  async send(msg: PushMessage): Promise<void> {
    log("info", "push", { ...msg, data: undefined });
  }
}

/** The configured provider. Only the logging one ships; a real one plugs in here by env. */
export function pushProvider(_env: Env): PushProvider {
  return new LoggingPushProvider();
}
