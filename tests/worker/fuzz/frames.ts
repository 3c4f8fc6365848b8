import fc from "fast-check";
import { z } from "zod";
import { ClientFrameSchema } from "../../../src/durable/protocol/frames";
import { PresenceFrameSchema } from "../../../src/durable/protocol/presence";
import { CONTROL, INVALID_UTF8, WRONG_TYPES } from "./hostile";
import type { JsonSchema } from "./openapi";
import type { Pools } from "./pools";
import { valueArb } from "./values";

/**
 * The WebSocket client frames (docs/realtime.md, "Frames") as the fuzzer sees them: one JSON
 * Schema per frame type, made from the hub's own zod schemas, valid-looking frames generated from
 * them with ids from real fixtures, and the mutations of those frames (applied and judged in
 * frame-build.ts).
 */

/** The frame schemas hold no `$ref`s. */
export const resolve = (s: JsonSchema) => s;
const branches = (schema: z.ZodType) => (z.toJSONSchema(schema, { io: "input" }) as JsonSchema).oneOf ?? [];

/** Every client frame type's schema, by type. */
export const FRAME_SCHEMAS: Record<string, JsonSchema> = Object.fromEntries(
  [...branches(ClientFrameSchema), ...branches(PresenceFrameSchema)].map((s) => [String(s.properties?.type?.const), s]),
);
export const FRAME_TYPES = Object.keys(FRAME_SCHEMAS);
/** Any client frame. */
export const ANY_FRAME: JsonSchema = { oneOf: Object.values(FRAME_SCHEMAS) };

// Message bodies, by kind, as docs/realtime.md states them (the frame schema has `body: unknown`
// and checks the body in a refinement that JSON Schema cannot carry).
export const BODIES: Record<string, JsonSchema> = {
  text: {
    type: "object",
    properties: {
      text: { type: "string", minLength: 1, maxLength: 4000 },
      mentions: { type: "array", items: { type: "string", minLength: 1, maxLength: 64 }, maxItems: 50 },
    },
    required: ["text"],
    additionalProperties: false,
  },
  custom: { type: "object" },
  file: {
    type: "object",
    properties: {
      fileId: { type: "string", minLength: 26, maxLength: 26 },
      caption: { type: "string", minLength: 1, maxLength: 1000 },
    },
    required: ["fileId"],
    additionalProperties: false,
  },
};
/** A message body's cap, in bytes of JSON. */
export const MAX_BODY_BYTES = 16 * 1024;
/** The conversation id pattern the frame schema checks (JSON Schema patterns are not checked by schema-check.ts). */
export const CONVERSATION_ID = /^[dg]_[0-9a-z]{20,40}$/;

/** What the frames name: the user's conversations and messages, and ones that are not theirs. */
export interface FrameFixtures {
  /** Conversations the socket's user is in (the direct one with a friend first). */
  mine: string[];
  /** The friend the direct conversation is with (a user to mention). */
  peer: string;
  /** A conversation of the tenant the user is not in. */
  notIn: string;
  /** Another tenant's conversation. */
  foreign: string;
  /** Messages: the user's own, another member's in the user's conversations, one elsewhere, another tenant's. */
  messages: { own: string[]; others: string[]; elsewhere: string; foreign: string };
  /** The user's own ready upload, and another user's. */
  files: { own: string; others: string };
  /** Real ids by kind, so that ids of nothing look like real ones. */
  pools: Pools;
  maxFrameBytes: number;
}

/** One mutation of a valid-looking frame. Indexes are free-running; the builder takes them modulo. */
export type FrameMutation =
  | { kind: "baseline" }
  | { kind: "wrong-type"; slot: number; value: number }
  | { kind: "missing-required"; slot: number }
  | { kind: "extra-field"; slot: number; key: string; value: unknown }
  | { kind: "huge-string"; slot: number; size: number }
  | { kind: "deep-json"; slot: number; shape: "array" | "object" }
  | { kind: "nul"; slot: number; at: number }
  | { kind: "control"; slot: number; char: number }
  | { kind: "lone-surrogate"; slot: number; high: boolean }
  | { kind: "conversation"; whose: "unknown" | "foreign" | "not-in"; salt: number }
  | { kind: "message"; whose: "others" | "elsewhere" | "foreign" | "unknown"; salt: number }
  | { kind: "number"; value: number }
  | { kind: "unknown-type"; variant: number }
  | { kind: "not-object"; variant: number }
  | { kind: "malformed-json"; variant: number; salt: number }
  | { kind: "binary"; variant: number }
  | { kind: "oversize"; variant: number }
  | { kind: "many-cursors"; extra: boolean };

/** One generated case: a frame type's valid-looking frame and its mutation. */
export interface FrameCase {
  type: string;
  base: Record<string, unknown>;
  mutation: FrameMutation;
}

/** String sizes: under the frame cap but over every field's limit, and over the cap (close 1009). */
export const HUGE = [5_000, 20_000, 70_000, 300_000];
/** Numbers for `seq` and sync cursors: negative, fractional, past 2^53, past every seq, zero. */
export const NUMBERS = [-1, -0, 1.5, 2 ** 53, 2 ** 53 + 2, 1e308, Number.MAX_SAFE_INTEGER, 0, 4_294_967_296, -1e308];
/** `type` values no client frame has (server frame types among them). */
export const UNKNOWN_TYPES: unknown[] = [
  "SEND",
  "send ",
  "Ping",
  "admin",
  "__proto__",
  "",
  "presence_snapshot",
  "message",
  "ack",
  "error",
  "closed",
  1,
  null,
  ["send"],
];
/** Frames that are JSON but not a frame object. */
export const NOT_OBJECTS = ["null", "[]", "1", '"ping"', "true", '[{"type":"ping"}]', "{}", '{"type":{"type":"ping"}}'];

const n = fc.nat({ max: 1_000_000 });
const salt = fc.integer();

/** The mutation classes with their generators and how often random cases draw them. */
export const FRAME_MUTATIONS: {
  kind: FrameMutation["kind"];
  arbitrary: fc.Arbitrary<FrameMutation>;
  weight: number;
}[] = [
  { kind: "baseline", weight: 5, arbitrary: fc.constant({ kind: "baseline" }) },
  {
    kind: "wrong-type",
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("wrong-type"), slot: n, value: fc.nat(WRONG_TYPES.length * 10) }),
  },
  { kind: "missing-required", weight: 2, arbitrary: fc.record({ kind: fc.constant("missing-required"), slot: n }) },
  {
    kind: "extra-field",
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("extra-field"),
      slot: n,
      key: fc.constantFrom("__proto__", "constructor", "userId", "senderId", "tenantId", "seq", "zz"),
      value: fc.jsonValue({ maxDepth: 1 }),
    }),
  },
  {
    kind: "huge-string",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("huge-string"), slot: n, size: fc.nat(HUGE.length * 10) }),
  },
  {
    kind: "deep-json",
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deep-json"),
      slot: n,
      shape: fc.constantFrom("array" as const, "object" as const),
    }),
  },
  { kind: "nul", weight: 1, arbitrary: fc.record({ kind: fc.constant("nul"), slot: n, at: n }) },
  {
    kind: "control",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("control"), slot: n, char: fc.nat(CONTROL.length * 10) }),
  },
  {
    kind: "lone-surrogate",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("lone-surrogate"), slot: n, high: fc.boolean() }),
  },
  {
    kind: "conversation",
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("conversation"),
      whose: fc.constantFrom("unknown" as const, "foreign" as const, "not-in" as const),
      salt,
    }),
  },
  {
    kind: "message",
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("message"),
      whose: fc.constantFrom("others" as const, "elsewhere" as const, "foreign" as const, "unknown" as const),
      salt,
    }),
  },
  {
    kind: "number",
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("number"), value: fc.nat(NUMBERS.length * 10) }),
  },
  {
    kind: "unknown-type",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("unknown-type"), variant: fc.nat(UNKNOWN_TYPES.length * 10) }),
  },
  {
    kind: "not-object",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("not-object"), variant: fc.nat(NOT_OBJECTS.length * 10) }),
  },
  {
    kind: "malformed-json",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("malformed-json"), variant: n, salt }),
  },
  {
    kind: "binary",
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("binary"), variant: fc.nat((INVALID_UTF8.length + 1) * 10) }),
  },
  { kind: "oversize", weight: 1, arbitrary: fc.record({ kind: fc.constant("oversize"), variant: fc.nat(30) }) },
  { kind: "many-cursors", weight: 1, arbitrary: fc.record({ kind: fc.constant("many-cursors"), extra: fc.boolean() }) },
];

/** How often random cases draw each frame type. */
const TYPE_WEIGHTS: Record<string, number> = {
  send: 4,
  edit: 2,
  recall: 1,
  sync: 2,
  read: 2,
  typing: 1,
  ping: 1,
  presence: 1,
  presence_sync: 1,
};

/** A valid-looking frame of a type: the schema's values, real ids, a body that fits its kind. */
export function frameArb(type: string, fx: FrameFixtures): fc.Arbitrary<Record<string, unknown>> {
  const ids = (kind: string | undefined) =>
    fc.constantFrom(...(kind === "messages" ? [...fx.messages.own, ...fx.messages.others] : fx.mine));
  const base = valueArb(FRAME_SCHEMAS[type]!, { resolve, ids: (k) => ids(k), receiverUrl: "" }) as fc.Arbitrary<
    Record<string, unknown>
  >;
  const text = fc.record(
    { text: fc.stringMatching(/^[a-z][a-z0-9 ]{0,30}$/), mentions: fc.constantFrom([], [fx.peer]) },
    { requiredKeys: ["text"] },
  );
  switch (type) {
    case "send": {
      const body = fc.oneof(
        { weight: 4, arbitrary: text.map((b) => ({ kind: "text", body: b })) },
        {
          weight: 2,
          arbitrary: fc
            .dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
            .map((b) => ({ kind: "custom", body: b })),
        },
        {
          weight: 2,
          arbitrary: fc
            .record(
              { fileId: fc.constant(fx.files.own), caption: fc.stringMatching(/^[a-z]{1,20}$/) },
              { requiredKeys: ["fileId"] },
            )
            .map((b) => ({ kind: "file", body: b })),
        },
      );
      return fc.tuple(base, body, fc.boolean(), fc.uuid()).map(([f, b, implicit, clientId]) => {
        const out: Record<string, unknown> = { ...f, clientId, body: b.body };
        if (b.kind === "text" && implicit) delete out.kind;
        else out.kind = b.kind;
        return out;
      });
    }
    case "edit":
      return fc.tuple(base, text).map(([f, body]) => ({ ...f, body }));
    case "sync":
      return fc
        .tuple(
          base,
          fc.subarray(fx.mine),
          fc.array(fc.nat(20), { minLength: fx.mine.length, maxLength: fx.mine.length }),
        )
        .map(([f, convs, seqs]) => ({ ...f, cursors: Object.fromEntries(convs.map((c, i) => [c, seqs[i]!])) }));
    default:
      return base;
  }
}

/** Random cases: any frame type (weighted), any mutation (weighted). */
export function frameCaseArb(fx: FrameFixtures): fc.Arbitrary<FrameCase> {
  const type = fc.oneof(...FRAME_TYPES.map((t) => ({ arbitrary: fc.constant(t), weight: TYPE_WEIGHTS[t] ?? 1 })));
  const mutation = fc.oneof(...FRAME_MUTATIONS.map((m) => ({ arbitrary: m.arbitrary, weight: m.weight })));
  return type.chain((t) => fc.record({ type: fc.constant(t), base: frameArb(t, fx), mutation }));
}

/** The sweep: every mutation class on every frame type, so each run tries each pair once. */
export function frameSweepArbs(fx: FrameFixtures): { key: string; arbitrary: fc.Arbitrary<FrameCase> }[] {
  return FRAME_MUTATIONS.flatMap((m) =>
    FRAME_TYPES.map((t) => ({
      key: `${t}#${m.kind}`,
      arbitrary: fc.record({ type: fc.constant(t), base: frameArb(t, fx), mutation: m.arbitrary }),
    })),
  );
}
