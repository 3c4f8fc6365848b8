/**
 * Headless Chromium for the browser tests: Debian's `chromium` (tools/system-deps.sh installs it)
 * driven by playwright-core. Each page records what must never happen (a dialog other than the
 * console's own confirmations, an uncaught error, a CSP violation) for the test to assert on, and
 * screenshots land in test-results/screenshots (the run's artifacts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

export const SCREENSHOTS = join(process.cwd(), "test-results/screenshots");

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A name that would run as script if any page parsed it as HTML. */
export const HOSTILE = "<img src=x onerror=alert(1)>";

/** One Chromium for the calling test file (or describe block): launched before, closed after. */
export function browserForFile(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error("the browser is not launched yet");
    return browser;
  };
}

export interface Watched {
  page: Page;
  /** Alerts and prompts seen (a hostile name that ran as script would show here), and page errors. */
  incidents: string[];
}

/** A page that accepts the console's confirm() dialogs and records anything untoward. */
export function watch(page: Page): Watched {
  const incidents: string[] = [];
  page.on("dialog", (d) => {
    if (d.type() === "confirm") void d.accept();
    else {
      incidents.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    }
  });
  page.on("pageerror", (err) => incidents.push(`page error: ${err.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text()))
      incidents.push(`csp: ${m.text()}`);
  });
  return { page, incidents };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
