import type { TenantConfig } from "./tenant-config";

/**
 * What a VIP level gives, for every service that asks (commerce shows it, content locks posts,
 * files size uploads): the tenant's `vip.levels` entry of that level, or of the highest configured
 * level below it (a level removed from the config after it was bought), or none at level 0.
 */
export type Benefits = TenantConfig["vip"]["levels"][number]["benefits"];

export const NO_BENEFITS: Benefits = {
  aiQuotaBonusPercent: 0,
  discountPercent: 0,
  badge: null,
  contentAccess: false,
  maxUploadBytes: null,
};

/** The configured level a level counts as (null at 0 or below every configured level). */
export function levelDef(config: TenantConfig, level: number): TenantConfig["vip"]["levels"][number] | null {
  if (level < 1) return null;
  return [...config.vip.levels].reverse().find((l) => l.level <= level) ?? null;
}

/** A member's public badge (profiles): level, level name and badge; null at level 0. */
export function vipBadge(config: TenantConfig, level: number) {
  const def = levelDef(config, level);
  return level > 0 ? { level, name: def?.name ?? null, badge: def?.benefits.badge ?? null } : null;
}

/** A post as the lock needs it. */
export interface Lockable {
  id: string;
  authorId: string;
  minVipLevel: number;
  tags: string;
}

/**
 * Whether a VIP-only post is locked for a viewer (docs/commerce.md, VIP-only posts): not for its
 * author, nor for a member whose level reaches the post's and whose level gives content access,
 * nor for one who unlocked the post or one of its tags with a content product.
 */
export function lockFor(
  config: TenantConfig,
  viewer: string,
  level: number,
  unlocks: { target_type: "post" | "tag"; target: string }[],
): (p: Lockable) => boolean {
  const access = levelDef(config, level)?.benefits.contentAccess ?? false;
  const posts = new Set(unlocks.filter((u) => u.target_type === "post").map((u) => u.target));
  const tags = new Set(unlocks.filter((u) => u.target_type === "tag").map((u) => u.target));
  return (p) => {
    if (p.minVipLevel <= 0 || p.authorId === viewer) return false;
    if (access && level >= p.minVipLevel) return false;
    if (posts.has(p.id)) return false;
    return !(JSON.parse(p.tags) as string[]).some((t) => tags.has(t));
  };
}
