/**
 * Fuzzing the WebSocket protocol (docs/realtime.md, "Frames") with hostile client frames.
 *
 * A member signs in for real and opens /v1/realtime; a friend shares a direct and a group
 * conversation with them. fast-check generates valid-looking frames of every client frame type
 * from the hub's own zod schemas (ids of the member's real conversations, messages and files)
 * and mutates them: wrong types, missing and extra fields, huge strings, deep JSON, NUL, control
 * characters, lone surrogates, non-JSON, binary frames, unknown types, ids of nothing, of another
 * tenant's conversation and of one the member is not in, huge and negative seqs, 100 and 101
 * sync cursors, frames over the size cap (tests/worker/fuzz/frames.ts). The oracle
 * (tests/worker/fuzz/socket-run.ts): the socket is never closed but at the size cap (1009, then
 * a new socket), never 1011; a bad frame gets `error` `invalid_frame` with its clientId echoed;
 * a frame naming a conversation the member is not in gets `conversation_not_found`, never an
 * ack; nothing of another conversation reaches the socket; after every batch of eight frames a
 * ping gets its pong and a real send its ack.
 *
 * The tenant allows 1,000 frames per second (the config's maximum), more than a run sends per
 * socket, so the rate cap never closes a socket unless the hub miscounts.
 * `npm test` runs a fixed seed: the sweep (every mutation class on every frame type) plus
 * 20 × CI_RUNS random frames; FUZZ_RUNS and FUZZ_SEED work as for tests/worker/fuzz.test.ts.
 * Replay: FUZZ_SEED=<seed> FUZZ_RUNS=<runs> npx vitest run --project worker tests/worker/fuzz-socket.test.ts
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { as, befriend, registerUser, tenantWithOwner } from "./auth-helpers";
import { call } from "./helpers";
import { group } from "./socket-helpers";
import { frameCaseArb, frameSweepArbs, type FrameCase, type FrameFixtures } from "./fuzz/frames";
import { seedFor, fuzzSettings } from "./fuzz/settings";
import { FrameRunner, type SocketFailure } from "./fuzz/socket-run";
import { PNG } from "./fuzz/world";

const settings = fuzzSettings();
/** Random frames per FUZZ_RUNS unit: CI_RUNS (8) gives 160 on top of the sweep's 162. */
const FRAMES_PER_RUN = 20;
const FRAMES_PER_SECOND = 1000;

type User = Awaited<ReturnType<typeof registerUser>>;

async function ok<T>(res: Promise<Response>, what: string): Promise<T> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fuzz-socket fixture: ${what} answered ${r.status}: ${await r.text()}`);
  return (await r.json()) as T;
}

const message = async (slug: string, u: User, conversationId: string) =>
  (
    await ok<{ messageId: string }>(
      call(`/v1/conversations/${conversationId}/messages`, {
        method: "POST",
        ...as(slug, u),
        json: { clientId: crypto.randomUUID(), body: { text: "fuzz" } },
      }),
      "message",
    )
  ).messageId;

async function upload(slug: string, u: User): Promise<string> {
  const form = new FormData();
  form.set("file", new Blob([PNG], { type: "image/png" }), "fuzz.png");
  form.set("purpose", "attachment");
  return (await ok<{ id: string }>(call("/v1/files", { method: "POST", ...as(slug, u), body: form }), "upload")).id;
}

/**
 * The member (alice), a friend (bob) with a direct and a group conversation, a group of bob and
 * carol alice is not in, and another tenant's group: with messages and files in each.
 */
async function fixtures(): Promise<{ slug: string; alice: User; fx: FrameFixtures }> {
  const t = await tenantWithOwner({
    realtime: { framesPerSecond: FRAMES_PER_SECOND, frameBurst: 10_000 },
    limits: { requestsPerMinute: 1_000_000 },
  });
  const slug = t.tenant.slug;
  const [alice, bob, carol] = await Promise.all([registerUser(slug), registerUser(slug), registerUser(slug)]);
  await befriend(slug, alice!, bob!);
  const direct = (
    await ok<{ id: string }>(
      call("/v1/conversations", { method: "POST", ...as(slug, alice!), json: { type: "direct", userId: bob!.userId } }),
      "direct",
    )
  ).id;
  const crew = await group(slug, alice!, [bob!]);
  const notIn = await group(slug, bob!, [carol!], "not alice's");
  const own = [
    await message(slug, alice!, direct),
    await message(slug, alice!, direct),
    await message(slug, alice!, crew),
    await message(slug, alice!, crew),
  ];
  // Bob's message in the direct conversation only: in the group alice owns, she may recall his.
  const others = [await message(slug, bob!, direct)];
  const elsewhere = await message(slug, bob!, notIn);

  const o = await tenantWithOwner();
  const [x, y] = await Promise.all([registerUser(o.tenant.slug), registerUser(o.tenant.slug)]);
  const foreign = await group(o.tenant.slug, x!, [y!]);
  const foreignMessage = await message(o.tenant.slug, x!, foreign);

  const files = { own: await upload(slug, alice!), others: await upload(slug, bob!) };
  const pools = {
    conversations: [direct, crew, notIn, foreign].map((id) => ({ id })),
    messages: [...own, ...others, elsewhere, foreignMessage].map((id) => ({ id })),
    files: [files.own, files.others].map((id) => ({ id })),
  };
  const maxFrameBytes =
    (t.tenant.config as { realtime?: { maxFrameBytes?: number } }).realtime?.maxFrameBytes ?? 64 * 1024;
  return {
    slug,
    alice: alice!,
    fx: {
      mine: [direct, crew],
      peer: bob!.userId,
      notIn,
      foreign,
      messages: { own, others, elsewhere, foreign: foreignMessage },
      files,
      pools,
      maxFrameBytes,
    },
  };
}

function describeFailure(f: SocketFailure, replay: string): string {
  return [
    `[socket] ${f.why}`,
    `  frame: ${f.label}${f.index >= 0 ? ` (case #${f.index})` : ""}`,
    `  sent: ${f.sent}`,
    `  answers since: ${JSON.stringify(f.answers).slice(0, 600)}`,
    ...(f.closed ? [`  closed: ${f.closed.code} ${JSON.stringify(f.closed.reason)}`] : []),
    `  replay: ${replay}`,
  ].join("\n");
}

describe(`fuzz: hostile WebSocket frames (seed ${settings.seed}, ${settings.runs * FRAMES_PER_RUN} random frames)`, () => {
  let world: Awaited<ReturnType<typeof fixtures>>;

  beforeAll(async () => {
    if (settings.random)
      console.log(`fuzz-socket: random seed ${settings.seed} (replay with FUZZ_SEED=${settings.seed})`);
    world = await fixtures();
  }, 60_000);

  it(
    "no close but at the size cap, never 1011; bad frames get error frames; other conversations stay out of reach; the socket stays usable",
    async () => {
      const { fx } = world;
      const cases: FrameCase[] = frameSweepArbs(fx).flatMap((s) =>
        fc.sample(s.arbitrary, { seed: seedFor(settings.seed, `socket ${s.key}`), numRuns: 1 }),
      );
      cases.push(
        ...fc.sample(frameCaseArb(fx), {
          seed: seedFor(settings.seed, "socket"),
          numRuns: settings.runs * FRAMES_PER_RUN,
        }),
      );
      const r = await new FrameRunner(world.slug, world.alice.tokens.accessToken, fx, FRAMES_PER_SECOND).run(cases);
      console.log(
        `fuzz-socket: ${r.frames} frames (${cases.length} cases), ${r.capCloses} closes at the size cap, ${r.failures.length} failures, seed ${settings.seed}`,
      );
      console.log(
        `fuzz-socket: answers ${Object.entries(r.answers)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
      if (r.soft.length)
        console.log(`fuzz-socket: accepted without an error (allowed, noted):\n  ${[...new Set(r.soft)].join("\n  ")}`);
      if (r.failures.length > 0) {
        const replay = `FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.runs} npx vitest run --project worker tests/worker/fuzz-socket.test.ts`;
        throw new Error(
          `${r.failures.length} answers broke the protocol (seed ${settings.seed}):\n\n${r.failures.map((f) => describeFailure(f, replay)).join("\n\n")}`,
        );
      }
      // No failures must mean frames were sent and answered: the sweep (a case per mutation
      // class and frame type), every random case, and a ping and a send after each batch.
      expect(cases.length, "cases generated").toBeGreaterThan(settings.runs * FRAMES_PER_RUN);
      expect(r.frames, "frames sent").toBeGreaterThan(cases.length);
      const judged = Object.values(r.answers).reduce((n, k) => n + k, 0);
      expect(judged + r.capCloses, "cases judged (by their answer or a close at the size cap)").toBe(cases.length);
      expect(judged - (r.answers["(none expected)"] ?? 0), "cases answered by the hub").toBeGreaterThan(0);
    },
    120_000 + settings.runs * FRAMES_PER_RUN * 1_000,
  );
});
