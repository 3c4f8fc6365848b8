/** `npm run reset`: wipes local state (.canopy/ and .dev.vars). Stop `npm run dev` first. */
import { rmSync } from "node:fs";
import { devVarsPath, stateDir } from "./local-state";

rmSync(stateDir, { recursive: true, force: true });
rmSync(devVarsPath, { force: true });
console.log("Local state wiped (.canopy/, .dev.vars). The next `npm run dev` starts fresh.");
