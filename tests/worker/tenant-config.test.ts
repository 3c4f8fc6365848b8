import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  defaultTenantConfig,
  installConfigParts,
  mergeConfig,
  tenantConfigPatchSchema,
  tenantConfigSchema,
  type TenantConfig,
  type TenantConfigPatch,
} from "../../src/lib/tenant-config";
import { services } from "../../src/workers/gateway/services";

const TenantConfigSchema = tenantConfigSchema() as unknown as z.ZodObject;
const TenantConfigPatchSchema = tenantConfigPatchSchema();

/**
 * A config PATCH of one section never resets another: a config with a non-default value in every
 * section and every limit, patched one section (or one service's limit) at a time, keeps every
 * other one as it was. A section or limit a service adds fails the first test until this fixture
 * gives it a value of its own.
 */
const defaults = defaultTenantConfig();
const custom: TenantConfig = tenantConfigSchema().parse({
  allowedOrigins: ["https://app.example"],
  limits: {
    maxBodyBytes: 2048,
    requestsPerMinute: 77,
    maxFriends: 123,
    maxPendingRequests: 9,
    friendRequestTtlDays: 3,
    maxGroupMembers: 40,
    maxUploadBytes: 4096,
  },
  session: { maxSessions: 3, accessTokenTtlSeconds: 300 },
  auth: { maxFailures: 7, lockoutSeconds: 600 },
  features: { beta: true, darkMode: false },
  messages: { editWindowSeconds: 60, directWithStrangers: true, moderation: { mode: "mask", words: ["spam"] } },
  realtime: { framesPerSecond: 5 },
  signIn: { registration: "closed" },
  email: { brandColor: "#112233" },
  content: { maxPostChars: 5000 },
  search: { maxHits: 50 },
  commerce: { currencies: ["EUR"], virtualCurrencies: [{ code: "COIN", name: "Coins" }] },
  vip: { levels: [{ level: 5, name: "patron", benefits: { badge: "patron" } }] },
  ai: { quota: { units: 50, period: "week", timeZone: "Asia/Shanghai" }, pool: { units: 1000 } },
  privacy: { deletionGraceHours: 24, messagesOnErasure: "keep" },
  retention: { messagesDays: 30, filesDays: 90 },
  audit: { retentionDays: 30 },
  backup: { hourUtc: 5, retentionDays: 14 },
});

/** A patch that changes one field of one section (and nothing else). */
const patches: Record<keyof TenantConfig, TenantConfigPatch> = {
  allowedOrigins: { allowedOrigins: ["https://other.example"] },
  limits: { limits: { maxFriends: 5 } },
  session: { session: { maxSessions: 9 } },
  auth: { auth: { maxMfaFailures: 9 } },
  features: { features: { beta: null, extra: true } },
  messages: { messages: { moderation: { mode: "block" } } },
  realtime: { realtime: { maxFrameBytes: 4096 } },
  signIn: { signIn: { registration: "open" } },
  email: { email: { fromName: "Acme" } },
  content: { content: { maxPostChars: 300 } },
  search: { search: { maxHits: 7 } },
  commerce: { commerce: { currencies: ["JPY"] } },
  ai: { ai: { quota: { units: 42 } } },
  privacy: { privacy: { deletionGraceHours: 0 } },
  retention: { retention: { notificationsDays: 7 } },
  audit: { audit: { retentionDays: 90 } },
  backup: { backup: { daily: false } },
  vip: {
    vip: {
      levels: [
        {
          level: 1,
          name: "plus",
          benefits: {
            aiQuotaBonusPercent: 0,
            discountPercent: 0,
            badge: null,
            contentAccess: true,
            maxUploadBytes: null,
          },
        },
      ],
    },
  },
};

describe("tenant config merge", () => {
  it("the fixture and the patches cover every section of the schema", () => {
    const sections = Object.keys(TenantConfigSchema.shape).sort();
    expect(Object.keys(patches).sort()).toEqual(sections);
    for (const s of sections) {
      expect(custom[s as keyof TenantConfig], `section ${s} needs a non-default value`).not.toEqual(
        defaults[s as keyof TenantConfig],
      );
      expect(TenantConfigPatchSchema.safeParse(patches[s as keyof TenantConfig]).success, s).toBe(true);
    }
  });

  it("is the gateway's part and each service's, in the order of the list, each key once", () => {
    const sections = services.flatMap((s) => Object.keys(s.config?.sections ?? {}));
    const limits = services.flatMap((s) => Object.keys(s.config?.limits ?? {}));
    expect(Object.keys(TenantConfigSchema.shape)).toEqual(["allowedOrigins", "limits", "features", ...sections]);
    expect(Object.keys(defaults.limits)).toEqual(["maxBodyBytes", "requestsPerMinute", ...limits]);
    const twice = services.find((s) => s.config?.limits)!.config!;
    expect(() => installConfigParts([twice, twice])).toThrow(/declared twice/);
    installConfigParts(services.flatMap((s) => (s.config ? [s.config] : [])));
  });

  it("every limit, whichever service added it, patched alone keeps the others", () => {
    const limits = Object.keys(defaults.limits) as (keyof TenantConfig["limits"])[];
    for (const key of limits) {
      expect(custom.limits[key], `limit ${key} needs a non-default value`).not.toBe(defaults.limits[key]);
      const merged = mergeConfig(custom, TenantConfigPatchSchema.parse({ limits: { [key]: defaults.limits[key] } }));
      for (const other of limits)
        expect(merged.limits[other], `${key} patch`).toBe(other === key ? defaults.limits[key] : custom.limits[other]);
    }
  });

  it("a PATCH of one section keeps every other section, at every depth", () => {
    for (const [section, patch] of Object.entries(patches) as [keyof TenantConfig, TenantConfigPatch][]) {
      const merged = mergeConfig(custom, TenantConfigPatchSchema.parse(patch));
      for (const other of Object.keys(patches) as (keyof TenantConfig)[]) {
        if (other !== section) expect(merged[other], `${section} patch kept ${other}`).toEqual(custom[other]);
      }
      expect(merged[section]).not.toEqual(custom[section]);
    }
  });

  it("merges objects field by field, replaces arrays, removes a feature set to null", () => {
    const merged = mergeConfig(custom, TenantConfigPatchSchema.parse({ messages: { moderation: { mode: "block" } } }));
    expect(merged.messages).toEqual({ ...custom.messages, moderation: { mode: "block", words: ["spam"] } });
    expect(mergeConfig(custom, { allowedOrigins: [] }).allowedOrigins).toEqual([]);
    expect(mergeConfig(custom, { features: { beta: null } }).features).toEqual({ darkMode: false });
    expect(mergeConfig(custom, {})).toEqual(custom);
  });
});
