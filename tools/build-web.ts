/**
 * Builds the web apps the Worker serves as static assets into web/dist (wrangler.toml [assets]):
 * the console (web/console → web/dist/console) and the chat example (examples/chat →
 * web/dist/examples/chat). Each app is one ES module bundle (esbuild, with
 * @canopy/client from sdk/src and Chart.js inside: nothing loads from a CDN) beside its page and
 * stylesheet. Run by `npm run dev`, `npm test`, `npm run build` and `npm run deploy`.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "web/dist");

const APPS = [
  {
    source: "web/console",
    target: "console",
    entry: "main.ts",
    bundle: "console.js",
    files: ["index.html", "console.css"],
  },
  {
    source: "examples/chat",
    target: "examples/chat",
    entry: "main.ts",
    bundle: "chat.js",
    files: ["index.html", "chat.css"],
  },
];

rmSync(out, { recursive: true, force: true });
for (const app of APPS) {
  const dir = join(out, app.target);
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(root, app.source, app.entry)],
    outfile: join(dir, app.bundle),
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
  for (const f of app.files) copyFileSync(join(root, app.source, f), join(dir, f));
}
console.log(`web apps built into ${out}`);
