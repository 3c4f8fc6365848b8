import type { ServiceModule } from "../gateway/module";
import { webRoutes } from "./routes";

/** The web apps served from the Worker's static assets: the console and the chat example (docs/console.md). */
export const webModule: ServiceModule = {
  name: "web",
  routes: [{ base: "/", router: webRoutes }],
  // The apps' files, by name (the fuzz suite asks for real ones and made-up ones).
  fuzzIds: { appFiles: { params: ["file"], names: true } },
};
