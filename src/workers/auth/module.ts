import type { ServiceModule } from "../gateway/module";
import { accountRoutes } from "./account-routes";
import { authConfig } from "./config";
import { jwksRoutes } from "./jwks";
import { mfaRoutes } from "./mfa-routes";
import { authRoutes } from "./routes";

/** Sign-up, sign-in, sessions, MFA and the keys that verify tokens. */
export const authModule: ServiceModule = {
  name: "auth",
  routes: [
    { base: "/v1", router: authRoutes },
    { base: "/v1", router: accountRoutes },
    { base: "/v1", router: mfaRoutes },
    { base: "/", router: jwksRoutes },
  ],
  emits: ["user.registered", "session.created", "session.refreshed", "session.revoked"],
  config: authConfig,
  fuzzIds: { sessions: { segments: ["sessions"] } },
};
