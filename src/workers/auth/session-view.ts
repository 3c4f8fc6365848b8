import type { SessionView } from "../../durable/user-hub/types";
import { iso } from "../../lib/time";

/** A hub's sessions as the API shows them (SessionSchema); `current` marks the caller's own. */
export const sessionItems = (sessions: SessionView[], currentId: string | null) =>
  sessions.map((s) => ({
    id: s.id,
    current: s.id === currentId,
    device: { id: s.deviceId, name: s.deviceName, platform: s.platform },
    ip: s.ip,
    userAgent: s.userAgent,
    createdAt: iso(s.createdAt),
    lastUsedAt: iso(s.lastUsedAt),
    expiresAt: iso(s.expiresAt),
  }));
