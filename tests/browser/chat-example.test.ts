import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserForFile, HOSTILE, screenshot, watch } from "./chromium";
import { password, stack, tenantWithOwner } from "./helpers";

const browser = browserForFile();

async function signUp(page: Page, tenant: string, username: string, pw: string): Promise<void> {
  await page.goto(`${stack().url}/examples/chat/?tenant=${tenant}`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(pw);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("status").filter({ hasText: "connected" }).waitFor();
}

const messagesOf = (page: Page) => page.getByRole("list", { name: "Messages" }).getByRole("listitem");

describe("the chat example, two people in two browser contexts", () => {
  it("sign up, befriend, see each other online, chat one to one and in a group", async () => {
    const { slug } = await tenantWithOwner();
    const [alice, bob] = await Promise.all([browser().newContext(), browser().newContext()]);
    const a = watch(await alice.newPage());
    const b = watch(await bob.newPage());
    const suffix = Date.now().toString(36);
    await signUp(a.page, slug, `alice${suffix}`, password());
    await signUp(b.page, slug, `bob${suffix}`, password());

    await a.page.getByLabel("Add a friend by username").fill(`bob${suffix}`);
    await a.page.getByRole("button", { name: "Send request" }).click();
    await a.page.getByText(`Friend request sent to bob${suffix}.`).waitFor();
    // Bob's page learns of the request (a notification frame, else Refresh) and accepts it.
    const accept = b.page.getByRole("button", { name: `Accept alice${suffix}` });
    await expect
      .poll(
        async () => {
          if (await accept.count()) return true;
          await b.page.getByRole("button", { name: "Refresh" }).click();
          return false;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await accept.click();
    await b.page.getByText(`You and alice${suffix} are friends.`).waitFor();

    // Presence: each sees the other online once the friendship reaches their sockets.
    const online = (page: Page, name: string) =>
      page
        .getByRole("list", { name: "Friends" })
        .getByRole("listitem")
        .filter({ hasText: name })
        .getByRole("img", { name: "online" });
    await expect
      .poll(
        async () => {
          if (await online(a.page, `bob${suffix}`).count()) return true;
          await a.page.getByRole("button", { name: "Refresh" }).click();
          // A reconnect sends the presence snapshot of the friends as they are now.
          await a.page.reload();
          await a.page.getByRole("status").filter({ hasText: "connected" }).waitFor();
          return false;
        },
        { timeout: 20_000 },
      )
      .toBe(true);

    await a.page.getByRole("button", { name: `Chat with bob${suffix}` }).click();
    await a.page.getByRole("textbox", { name: "Message" }).fill(`hi bob ${HOSTILE}`);
    await a.page.getByRole("button", { name: "Send", exact: true }).click();
    await expect.poll(() => messagesOf(a.page).count(), { timeout: 10_000 }).toBe(1);

    // Bob opens the conversation from his list and answers.
    await expect
      .poll(
        async () => {
          const entry = b.page
            .getByRole("list", { name: "Conversations" })
            .getByRole("button", { name: `alice${suffix}` });
          if (await entry.count()) {
            await entry.click();
            return true;
          }
          await b.page.getByRole("button", { name: "Refresh" }).click();
          return false;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await expect
      .poll(() => messagesOf(b.page).allInnerTexts(), { timeout: 10_000 })
      .toEqual([`alice${suffix}:hi bob ${HOSTILE}`]);
    await b.page.getByRole("textbox", { name: "Message" }).fill("hi alice");
    await b.page.getByRole("button", { name: "Send", exact: true }).click();
    await expect
      .poll(() => messagesOf(a.page).allInnerTexts())
      .toEqual([`alice${suffix}:hi bob ${HOSTILE}`, `bob${suffix}:hi alice`]);
    expect(await a.page.locator("main img, aside img").count()).toBe(0);
    await screenshot(a.page, "chat-direct-alice");
    await screenshot(b.page, "chat-direct-bob");

    // A group of the two: Alice creates it and writes; Bob reads it live.
    await a.page.getByRole("textbox", { name: "New group" }).fill("Crew");
    await a.page.getByRole("checkbox", { name: `bob${suffix}` }).check();
    await a.page.getByRole("button", { name: "Create group" }).click();
    await a.page.getByRole("heading", { name: "Crew" }).waitFor();
    await a.page.getByRole("textbox", { name: "Message" }).fill("welcome to the crew");
    await a.page.getByRole("button", { name: "Send", exact: true }).click();
    await expect
      .poll(
        async () => {
          const entry = b.page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: "Crew" });
          if (!(await entry.count())) return false;
          await entry.click();
          return true;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await expect
      .poll(() => messagesOf(b.page).allInnerTexts(), { timeout: 10_000 })
      .toEqual([`alice${suffix}:welcome to the crew`]);
    await screenshot(b.page, "chat-group-bob");
    expect(a.incidents).toEqual([]);
    expect(b.incidents).toEqual([]);
    await Promise.all([alice.close(), bob.close()]);
  });
});
