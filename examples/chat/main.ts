/**
 * A small chat app on @canopy/client: sign up or in, add friends by username, see who is online,
 * chat one to one and in groups. The SDK does the hard part (resume without loss or duplicates,
 * the offline queue, reconnects); this file is only the page. Served at /examples/chat/ by
 * `npm run dev` (tenant `demo` by default, or `?tenant=<slug>`).
 */
import {
  CanopyError,
  type CanopyClient,
  type components,
  createClient,
  indexedDbStorage,
  type MessageFrame,
} from "../../sdk/src/index.js";
import { type Child, h, render } from "../../web/shared/dom.js";

type Friend = components["schemas"]["Friend"];
type Conversation = components["schemas"]["Conversation"];
type Message = NonNullable<components["schemas"]["Message"]>;
type Request = components["schemas"]["FriendRequest"];

const root = document.getElementById("app") as HTMLElement;
const tenant = new URLSearchParams(location.search).get("tenant") ?? "demo";
const client: CanopyClient = createClient({
  baseUrl: location.origin,
  tenant,
  storage: indexedDbStorage(`canopy-chat-${tenant}`),
});

let me: { id: string; name: string } = { id: "", name: "" };
let friends: Friend[] = [];
let requests: Request[] = [];
let conversations: Conversation[] = [];
let current: string | null = null;
const names = new Map<string, string>();
const presence = new Map<string, string>();
const messages = new Map<string, Map<number, Message>>();

const say = (text: string, error = false) => {
  const el = document.getElementById("status");
  if (el) {
    el.textContent = text;
    el.className = error ? "status error" : "status";
  }
};
const failed = (err: unknown) =>
  say(err instanceof CanopyError ? (err.problem?.detail ?? err.message) : String(err), true);

/** Runs a user's action, reporting a failure instead of losing it. */
const act = (run: () => Promise<void>) => () => void run().catch(failed);

async function nameOf(userId: string): Promise<string> {
  const known = names.get(userId);
  if (known) return known;
  const { data } = await client.api.GET("/v1/users/{id}", { params: { path: { id: userId } } });
  const name = data?.nickname || data?.username || userId;
  names.set(userId, name);
  return name;
}

async function conversationName(c: Conversation): Promise<string> {
  if (c.type === "group") return c.name ?? "Group";
  const other = c.members.find((m) => m.userId !== me.id);
  return other ? nameOf(other.userId) : "Direct";
}

async function refresh(): Promise<void> {
  const [f, r, cs] = await Promise.all([
    client.api.GET("/v1/friends", { params: { query: { limit: 100 } } }),
    client.api.GET("/v1/friends/requests", { params: { query: { direction: "incoming", limit: 50 } } }),
    client.api.GET("/v1/conversations", { params: { query: { limit: 50 } } }),
  ]);
  friends = f.data?.items ?? [];
  for (const x of friends) names.set(x.user.id, x.user.nickname || x.user.username || x.user.id);
  requests = (r.data?.items ?? []).filter((x) => x.status === "pending");
  conversations = cs.data?.items ?? [];
  await drawSidebar();
}

/** The sidebar's frame: its lists are redrawn by drawSidebar, its forms are made once (typing survives). */
function sidebar(): HTMLElement {
  const username = h("input", { name: "friend", required: true, autocomplete: "off", id: "add-friend" });
  const groupName = h("input", { name: "group", required: true, id: "group-name" });
  return h(
    "aside",
    { id: "side", "aria-label": "People and conversations" },
    h("h2", null, "Friends"),
    h("ul", { id: "friends", "aria-label": "Friends" }),
    h("div", { id: "requests" }),
    form(
      "Add a friend",
      async () => {
        const wanted = username.value.trim().toLowerCase();
        const { data } = await client.api.GET("/v1/users", { params: { query: { q: wanted, limit: 20 } } });
        const user = data?.items.find((u) => u.username?.toLowerCase() === wanted);
        if (!user) return say(`No user named ${wanted}.`, true);
        await client.api.POST("/v1/friends/requests", { body: { toUserId: user.id } });
        say(`Friend request sent to ${wanted}.`);
        username.value = "";
      },
      h("label", { for: "add-friend" }, "Add a friend by username"),
      username,
      h("button", { type: "submit" }, "Send request"),
    ),
    h("h2", null, "Conversations"),
    h("ul", { id: "conversations", "aria-label": "Conversations" }),
    form(
      "New group",
      async (f) => {
        const memberIds = [...f.querySelectorAll<HTMLInputElement>("input[name=member]:checked")].map((i) => i.value);
        const { data } = await client.api.POST("/v1/conversations", {
          body: { type: "group", name: groupName.value.trim(), memberIds },
        });
        groupName.value = "";
        if (data) await open(data.id);
      },
      h("label", { for: "group-name" }, "New group"),
      groupName,
      h("div", { id: "group-members" }),
      h("button", { type: "submit" }, "Create group"),
    ),
    h("button", { type: "button", class: "link", onclick: act(refresh) }, "Refresh"),
  );
}

async function drawSidebar(): Promise<void> {
  const [list, reqs, convs, members] = ["friends", "requests", "conversations", "group-members"].map((id) =>
    document.getElementById(id),
  );
  if (!list || !reqs || !convs || !members) return;
  const convItems = await Promise.all(
    conversations.map(async (c) =>
      h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: "link",
            onclick: act(() => open(c.id)),
            "aria-current": c.id === current ? "true" : null,
          },
          await conversationName(c),
        ),
        c.unreadCount && c.id !== current ? ` (${c.unreadCount} new)` : "",
      ),
    ),
  );
  render(
    list,
    friends.length
      ? friends.map((f) => {
          const status = presence.get(f.user.id) ?? "offline";
          const name = names.get(f.user.id) ?? f.user.id;
          return h(
            "li",
            null,
            h("span", { class: `dot ${status}`, role: "img", "aria-label": status }),
            `${name} `,
            h("small", null, `(${status}) `),
            h(
              "button",
              { type: "button", class: "link", onclick: act(() => chatWith(f.user.id)) },
              `Chat with ${name}`,
            ),
          );
        })
      : h("li", null, "No friends yet."),
  );
  render(
    reqs,
    requests.length ? h("h2", null, "Friend requests") : null,
    h(
      "ul",
      null,
      requests.map((r) => {
        const name = r.user.nickname || r.user.username || r.user.id;
        return h(
          "li",
          null,
          `${name} `,
          h(
            "button",
            {
              type: "button",
              onclick: act(async () => {
                await client.api.POST("/v1/friends/requests/{id}/accept", { params: { path: { id: r.id } } });
                say(`You and ${name} are friends.`);
                await refresh();
              }),
            },
            `Accept ${name}`,
          ),
        );
      }),
    ),
  );
  render(convs, convItems);
  // The group's member choices keep what was ticked.
  const ticked = new Set([...members.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value));
  render(
    members,
    friends.map((f) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "member", value: f.user.id, checked: ticked.has(f.user.id) }),
        names.get(f.user.id) ?? "",
      ),
    ),
  );
}

function form(label: string, submit: (f: HTMLFormElement) => Promise<void>, ...children: Child[]) {
  const f = h("form", { "aria-label": label }, ...children);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit(f).catch(failed);
  });
  return f;
}

async function chatWith(userId: string): Promise<void> {
  const { data } = await client.api.POST("/v1/conversations", { body: { type: "direct", userId } });
  if (data) await open(data.id);
}

function keep(m: Message): void {
  let list = messages.get(m.conversationId);
  if (!list) messages.set(m.conversationId, (list = new Map()));
  list.set(m.seq, m);
}

async function open(id: string): Promise<void> {
  current = id;
  const { data } = await client.api.GET("/v1/conversations/{id}/messages", {
    params: { path: { id }, query: { limit: 50 } },
  });
  for (const m of data?.items ?? []) if (m) keep(m);
  const last = Math.max(0, ...[...(messages.get(id)?.keys() ?? [])]);
  // From here the socket resumes this conversation after what the page already shows.
  await client.realtime.track(id, last);
  if (last) client.realtime.read(id, last);
  await refresh();
  await drawConversation();
}

/** The open conversation's messages (the composer is left alone: what is being typed stays). */
async function drawMessages(): Promise<void> {
  const ol = document.getElementById("messages");
  if (!ol || !current) return;
  const list = [...(messages.get(current)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  const lines = await Promise.all(
    list
      .filter((m) => m.kind === "text")
      .map(async (m) =>
        h(
          "li",
          { "data-seq": m.seq },
          h("span", { class: "from" }, `${await nameOf(m.senderId)}:`),
          (m.body as { text?: string })?.text ?? "",
        ),
      ),
  );
  render(ol, lines);
  ol.scrollTo({ top: 1e9 });
}

/** The open conversation's frame: its name, its messages and the composer. */
async function drawConversation(): Promise<void> {
  const main = document.getElementById("main");
  if (!main || !current) return;
  const id = current;
  const c = conversations.find((x) => x.id === id);
  const text = h("input", { name: "text", id: "composer", required: true, autocomplete: "off", maxlength: 4000 });
  render(
    main,
    h("h1", null, c ? await conversationName(c) : "Conversation"),
    h("ol", { id: "messages", class: "messages", "aria-label": "Messages", "aria-live": "polite" }),
    form(
      "Send a message",
      async () => {
        const body = { text: text.value };
        text.value = "";
        // Resolves with the server's ack (queued and sent after a reconnect while offline); the
        // sender's own socket gets the ack, not the message, so the page adds it.
        const ack = await client.realtime.send(id, body);
        keep({
          conversationId: id,
          seq: ack.seq,
          messageId: ack.messageId,
          senderId: me.id,
          kind: "text",
          body,
          sentAt: new Date().toISOString(),
        });
        if (current === id) await drawMessages();
      },
      h(
        "div",
        { class: "composer" },
        h("div", null, h("label", { for: "composer" }, "Message"), text),
        h("button", { type: "submit" }, "Send"),
      ),
    ),
  );
  await drawMessages();
  text.focus();
}

async function enter(): Promise<void> {
  const { data } = await client.api.GET("/v1/me", {});
  me = { id: data?.id ?? "", name: data?.nickname || data?.username || "me" };
  render(
    root,
    h(
      "header",
      null,
      h("strong", null, "Canopy chat"),
      h("span", null, `${me.name} · ${tenant}`),
      h("span", { class: "state", id: "state", role: "status" }, "connecting…"),
      h("button", { type: "button", onclick: act(async () => client.auth.signOut()) }, "Sign out"),
    ),
    h("p", { id: "status", class: "status", "aria-live": "polite" }),
    h(
      "div",
      { class: "layout" },
      sidebar(),
      h("main", { id: "main" }, h("p", null, "Pick a friend or a conversation.")),
    ),
  );
  await refresh();
  await client.realtime.connect();
}

client.realtime.on("message", (m: MessageFrame) => {
  keep(m);
  if (m.conversationId === current) {
    void drawMessages();
    client.realtime.read(m.conversationId, m.seq);
  } else void refresh().catch(failed);
});
client.realtime.on("presence", (f) => {
  if (f.type === "presence_snapshot")
    for (const x of (f as unknown as { friends: { userId: string; status: string }[] }).friends)
      presence.set(x.userId, x.status);
  else presence.set(String(f.userId), String(f.status));
  void drawSidebar();
});
client.realtime.on("notification", () => void refresh().catch(failed));
client.realtime.on("connection", (e) => {
  const el = document.getElementById("state");
  if (el)
    el.textContent = e.state === "open" ? "connected" : e.state === "connecting" ? "connecting…" : "offline, retrying";
});
client.auth.on("signedOut", () => {
  current = null;
  signInView();
});

function signInView(): void {
  const username = h("input", { name: "username", id: "username", required: true, autocomplete: "username" });
  const password = h("input", {
    name: "password",
    id: "password",
    type: "password",
    required: true,
    minlength: 8,
    autocomplete: "current-password",
  });
  const run = (how: "in" | "up") => async () => {
    if (how === "up") await client.auth.signUp({ username: username.value.trim(), password: password.value });
    else await client.auth.signIn({ identifier: username.value.trim(), password: password.value });
    await enter();
  };
  const f = form(
    "Sign in",
    run("in"),
    h("label", { for: "username" }, "Username"),
    username,
    h("label", { for: "password" }, "Password"),
    password,
    h("button", { type: "submit" }, "Sign in"),
    h(
      "button",
      { type: "button", onclick: () => f.reportValidity() && void run("up")().catch(failed) },
      "Create account",
    ),
  );
  render(
    root,
    h(
      "main",
      { class: "signin" },
      h("h1", null, `Canopy chat · ${tenant}`),
      h("p", { id: "status", class: "status", "aria-live": "polite" }),
      f,
    ),
  );
}

client.auth
  .sessionId()
  .then((id) => (id ? enter() : signInView()))
  .catch(() => signInView());
