import type { ServiceModule } from "../gateway/module";
import { accountRoutes } from "./account-routes";
import { adminSessionRoutes } from "./admin-sessions";
import { deletionRoutes } from "./deletion-routes";
import { authConfig } from "./config";
import { authEmailConsumer, EMAIL_CONSUMER_TYPES } from "./email-consumer";
import { EMAIL_EVENTS } from "./email-flows";
import { emailPageRoutes } from "./email-pages";
import { emailRoutes } from "./email-routes";
import { emailChallengeSweep } from "./email-sweep";
import { jwksRoutes } from "./jwks";
import { mfaRoutes } from "./mfa-routes";
import { authRoutes } from "./routes";

/** Sign-up, sign-in, sessions, MFA, accounts by email, and the keys that verify tokens. */
export const authModule: ServiceModule = {
  name: "auth",
  routes: [
    { base: "/v1", router: authRoutes },
    { base: "/v1", router: accountRoutes },
    { base: "/v1", router: adminSessionRoutes },
    { base: "/v1", router: deletionRoutes },
    { base: "/v1", router: mfaRoutes },
    { base: "/v1", router: emailRoutes },
    { base: "/v1", router: emailPageRoutes },
    { base: "/", router: jwksRoutes },
  ],
  consumers: [{ queue: "notification", types: EMAIL_CONSUMER_TYPES, consume: authEmailConsumer }],
  sweeps: [emailChallengeSweep],
  emits: ["user.registered", "session.created", "session.refreshed", "session.revoked", ...Object.values(EMAIL_EVENTS)],
  config: authConfig,
  fuzzIds: { sessions: { segments: ["sessions"] } },
};
