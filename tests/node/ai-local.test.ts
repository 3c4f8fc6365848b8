import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LOCAL_SCORES,
  LOCAL_WORD_LISTS,
  localAnswer,
  localEmbedding,
  localModeration,
  localProvider,
  rankSentences,
} from "../../src/lib/ai/local";
import {
  type ChatChunk,
  type ChatRequest,
  EMBEDDING_DIMENSIONS,
  MODERATION_CATEGORIES,
  type ModerationCategory,
} from "../../src/lib/ai/provider";
import { countTokens, foldedTerms, tokenPieces, truncateToTokens } from "../../src/lib/ai/tokens";

const live = () => new AbortController().signal;
const scores = (text: string) => localModeration(text).categories;
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
const norm = (v: Float32Array) => Math.sqrt(cosine(v, v));

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}
const deltasOf = (chunks: ChatChunk[]) => chunks.flatMap((c) => ("delta" in c ? [c.delta] : []));
const usageOf = (chunks: ChatChunk[]) => chunks.flatMap((c) => ("usage" in c ? [c.usage] : []));

const SOURCES = [
  {
    id: "kb-refunds",
    title: "Refunds",
    text: "Refunds take five business days to reach your card. Contact support to start one.\nOur office is in Berlin.",
  },
  { id: "kb-shipping", title: "Shipping", text: "Shipping is free above 50 euros! Parcels leave the warehouse daily." },
  { id: "kb-zh", title: "退款", text: "退款需要五个工作日。请联系客服。" },
];

const chatRequest = (question: string, maxOutputTokens = 200): ChatRequest => ({
  system: "Answer from the passages below.",
  messages: [
    { role: "user", content: "Hello" },
    { role: "assistant", content: "Hi, how can I help?" },
    { role: "user", content: question },
  ],
  sources: SOURCES,
  maxOutputTokens,
});

describe("countTokens", () => {
  it("counts a run of letters or digits as one token and whitespace as nothing", () => {
    expect(countTokens("Hello world")).toBe(2);
    expect(countTokens("  spaced\tout\n words  ")).toBe(3);
    expect(countTokens("version 2026 of café")).toBe(4);
  });

  it("counts every CJK character (Han, kana, Hangul) as one token", () => {
    expect(countTokens("今天天气很好")).toBe(6);
    expect(countTokens("カタカナとひらがな")).toBe(9);
    expect(countTokens("안녕하세요")).toBe(5);
  });

  it("counts mixed scripts per rule: words, CJK characters and punctuation runs", () => {
    // I | love | 北 | 京 | 2026 | !!
    expect(countTokens("I love 北京 2026!!")).toBe(6);
    // 用 | React | 写 | 代 | 码 | 。
    expect(countTokens("用React写代码。")).toBe(6);
  });

  it("counts a run of punctuation or symbols, emoji included, as one token", () => {
    expect(countTokens("Wait... what?!")).toBe(4);
    expect(countTokens("👍👍👍")).toBe(1);
    expect(countTokens("ok 👍 ok")).toBe(3);
    // A variation selector and a ZWJ sequence stay inside their emoji's token.
    expect(countTokens("❤️")).toBe(1);
    expect(countTokens("👨‍👩‍👧")).toBe(1);
  });

  it("keeps combining marks with the token they follow", () => {
    expect(countTokens("cafe\u0301")).toBe(1);
  });

  it("counts empty and blank text as zero", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens(" \n\t ")).toBe(0);
  });
});

/** The rules of tokens.ts as one regular expression: slower, but the definition itself. */
const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\u30fc";
const DEFINITION = new RegExp(
  `[${CJK}]\\p{M}*|(?![${CJK}])[\\p{L}\\p{N}](?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])*|(?:(?![${CJK}])[^\\s\\p{L}\\p{N}])+`,
  "gu",
);
const PARTS = [
  "a",
  "Z",
  "9",
  "٣",
  "ß",
  "é",
  "\u0301",
  "\ufe0f",
  " ",
  "\n",
  "\u3000",
  "今",
  "カ",
  "ー",
  "한",
  ".",
  "!",
  "。",
];
const mixedText = fc
  .array(
    fc.oneof(fc.constantFrom(...PARTS, "👍", "\u200d", "\ud800", "𠀋"), fc.string({ unit: "binary", maxLength: 3 })),
    {
      maxLength: 40,
    },
  )
  .map((parts) => parts.join(""));

describe("countTokens against its definition", () => {
  it("counts and cuts like the regular expression of its rules, on any text", () => {
    fc.assert(
      fc.property(mixedText, fc.nat(12), (text, max) => {
        const matches = Array.from(text.matchAll(DEFINITION));
        expect(countTokens(text)).toBe(matches.length);
        expect(truncateToTokens(text, max)).toBe(text.slice(0, matches[max]?.index ?? text.length));
        expect(tokenPieces(text).join("")).toBe(text);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe("truncateToTokens", () => {
  it("keeps the longest prefix within the budget, never half a token", () => {
    expect(truncateToTokens("hello big world", 2)).toBe("hello big ");
    expect(truncateToTokens("hello big world", 3)).toBe("hello big world");
    expect(truncateToTokens("今天天气很好", 2)).toBe("今天");
    expect(truncateToTokens("stop... now", 1)).toBe("stop");
  });

  it("returns the text itself when it fits, and no token for a budget of zero", () => {
    expect(truncateToTokens("short text", 10)).toBe("short text");
    expect(truncateToTokens("  lead", 0)).toBe("  ");
    expect(truncateToTokens("", 3)).toBe("");
  });

  it("agrees with countTokens on every budget", () => {
    const text = "Mixed 文本, with emoji 👍 and punctuation?! 2026 년";
    for (let max = 0; max <= countTokens(text) + 1; max++) {
      const cut = truncateToTokens(text, max);
      expect(text.startsWith(cut)).toBe(true);
      expect(countTokens(cut)).toBe(Math.min(max, countTokens(text)));
    }
  });

  it("pieces concatenate to the text and their prefixes to each truncation", () => {
    const text = " Refunds take 五个 days. ";
    const pieces = tokenPieces(text);
    expect(pieces.join("")).toBe(text);
    expect(pieces).toHaveLength(countTokens(text));
    for (let k = 1; k < pieces.length; k++) expect(pieces.slice(0, k).join("")).toBe(truncateToTokens(text, k));
  });
});

describe("local moderation", () => {
  it("scores clean text at zero in every category", () => {
    const clean = scores("Hello friends, the meetup is on Friday at the library. Bring a snack!");
    expect(Object.keys(clean).sort()).toEqual([...MODERATION_CATEGORIES].sort());
    for (const c of MODERATION_CATEGORIES) expect(clean[c]).toBe(0);
  });

  it.each<[ModerationCategory, string]>([
    ["spam", "Buy now before it is gone"],
    ["harassment", "Shut up about it"],
    ["hate", "They called him subhuman"],
    ["violence", "I will kill you"],
    ["sexual", "send nudes"],
    ["self_harm", "I want to die"],
  ])("flags %s from its list with one match at 0.6", (category, text) => {
    const s = scores(text);
    expect(s[category]).toBe(LOCAL_SCORES.oneMatch);
    for (const c of MODERATION_CATEGORIES) if (c !== category) expect(s[c]).toBe(0);
  });

  it("scores two or more matches of a category at 0.95", () => {
    expect(scores("you idiot, shut up").harassment).toBe(LOCAL_SCORES.manyMatches);
    expect(scores("loser! loser!").harassment).toBe(0.95);
  });

  it("matches Chinese entries", () => {
    expect(scores("我不想活了").self_harm).toBe(0.6);
    expect(scores("你这个白痴，闭嘴").harassment).toBe(0.95);
    expect(scores("点击链接免费领取").spam).toBe(0.95);
  });

  it("matches case-insensitively but only whole English words", () => {
    expect(scores("KILL YOURSELF").self_harm).toBe(0.6);
    expect(scores("Free Money inside").spam).toBe(0.6);
    // "loser" inside "closer", "porn" inside "pornography" and "kill you" inside "kill yourself" do not count.
    expect(scores("move closer").harassment).toBe(0);
    expect(scores("a history of pornography laws").sexual).toBe(0);
    expect(scores("the kill yourself line").violence).toBe(0);
  });

  it("scores links by count: one 0.2, two 0.4, three or more 0.7", () => {
    expect(scores("see https://example.org/docs").spam).toBe(0.2);
    expect(scores("see https://a.example.org and www.b.net").spam).toBe(0.4);
    expect(scores("a.com b.net https://c.io/x d.xyz").spam).toBe(0.7);
  });

  it("scores repeated characters and shouting as spam, combining independent signals", () => {
    expect(scores("wow!!!!!!").spam).toBe(LOCAL_SCORES.repeated);
    expect(scores("sooooooo good").spam).toBe(0.5);
    expect(scores("it costs 1000000 coins").spam).toBe(0);
    expect(scores("Title\n------\nbody").spam).toBe(0);
    expect(scores("哈哈哈哈哈哈哈").spam).toBe(0);
    expect(scores("THIS IS A VERY LOUD MESSAGE").spam).toBe(LOCAL_SCORES.shouting);
    expect(scores("OK GO").spam).toBe(0);
    // 1 − (1 − 0.6)(1 − 0.7)(1 − 0.5) = 0.94
    expect(scores("buy now!!!!!! a.com b.com c.com").spam).toBe(0.94);
  });

  it("documents at least one English and one Chinese entry per category", () => {
    for (const c of MODERATION_CATEGORIES) {
      expect(LOCAL_WORD_LISTS[c].some((w) => /^[a-z ]+$/.test(w))).toBe(true);
      expect(LOCAL_WORD_LISTS[c].some((w) => /\p{Script=Han}/u.test(w))).toBe(true);
    }
  });

  it("answers through the provider and honours an aborted signal", async () => {
    const provider = localProvider();
    expect((await provider.moderate("I want to die", live())).categories.self_harm).toBe(0.6);
    const aborted = new AbortController();
    aborted.abort(new Error("gone"));
    await expect(provider.moderate("hello", aborted.signal)).rejects.toThrow("gone");
  });
});

describe("local embeddings", () => {
  it("returns one unit vector of 384 dimensions per text", async () => {
    const vectors = await localProvider().embed(["Refunds take five days", "今天天气很好", ""], live());
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it("is deterministic", () => {
    expect(Array.from(localEmbedding("The same text, twice"))).toEqual(
      Array.from(localEmbedding("The same text, twice")),
    );
  });

  it("maps a text without terms to e0", () => {
    for (const text of ["", "   ", "?!... 👍"]) {
      const v = localEmbedding(text);
      expect(v[0]).toBe(1);
      expect(v.slice(1).every((x) => x === 0)).toBe(true);
    }
  });

  it("folds case and accents, so they do not change the vector", () => {
    expect(Array.from(localEmbedding("CAFÉ Crème"))).toEqual(Array.from(localEmbedding("cafe creme")));
    expect(foldedTerms("Straße")).toEqual(["strasse"]);
  });

  it("puts similar texts closer than unrelated ones", () => {
    const a = localEmbedding("how long does a refund take to reach my card");
    const b = localEmbedding("a refund takes five days to reach your card");
    const c = localEmbedding("the hiking trail closes at sunset in winter");
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c));
    expect(cosine(a, b)).toBeGreaterThan(0.3);
  });

  it("compares Chinese by character bigrams", () => {
    const a = localEmbedding("退款需要几个工作日");
    const b = localEmbedding("退款需要五个工作日");
    const c = localEmbedding("今天的天气很好");
    expect(foldedTerms("退款需要")).toEqual(["退款", "款需", "需要"]);
    expect(cosine(a, b)).toBeGreaterThan(0.5);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c));
  });
});

describe("local chat", () => {
  it("answers with the sentences sharing the most terms with the question, best first", () => {
    const ranked = rankSentences("How long do refunds take to reach my card?", SOURCES);
    expect(ranked[0]).toEqual({
      sourceId: "kb-refunds",
      text: "Refunds take five business days to reach your card.",
      score: 4,
    });
    const answer = localAnswer("Is shipping free?", SOURCES, 100);
    expect(answer).toEqual({ text: "Shipping is free above 50 euros!", sourceIds: ["kb-shipping"] });
    expect(localAnswer("退款要多久", SOURCES, 100).text).toBe("退款需要五个工作日。");
  });

  it("answers nothing when no sentence shares a term with the question", () => {
    expect(localAnswer("What is the weather like?", SOURCES, 100)).toEqual({ text: "", sourceIds: [] });
    expect(localAnswer("refunds", [], 100).text).toBe("");
  });

  it("streams deltas that concatenate to localAnswer's text, then the usage", async () => {
    const req = chatRequest("How long do refunds take, and is shipping free?");
    const chunks = await collect(localProvider().chat(req, live()));
    const expected = localAnswer(req.messages.at(-1)?.content ?? "", SOURCES, 200).text;
    expect(expected).toContain("Refunds take five business days");
    expect(deltasOf(chunks).length).toBeGreaterThan(5);
    expect(deltasOf(chunks).join("")).toBe(expected);
    expect(chunks.at(-1)).toEqual({
      usage: {
        inputTokens:
          countTokens(req.system) +
          countTokens("Hello") +
          countTokens("Hi, how can I help?") +
          countTokens(req.messages[2]?.content ?? ""),
        outputTokens: countTokens(expected),
      },
    });
  });

  it("stops at maxOutputTokens", async () => {
    const chunks = await collect(localProvider().chat(chatRequest("How long do refunds take?", 4), live()));
    const text = deltasOf(chunks).join("");
    expect(text).toBe("Refunds take five business");
    expect(usageOf(chunks)).toEqual([{ inputTokens: expect.any(Number), outputTokens: 4 }]);
  });

  it("yields only the usage when there are no sources", async () => {
    const req = { ...chatRequest("How long do refunds take?"), sources: [] };
    const chunks = await collect(localProvider().chat(req, live()));
    expect(chunks).toHaveLength(1);
    expect(usageOf(chunks)[0]?.outputTokens).toBe(0);
  });

  it("stops the stream with the abort reason when the signal aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("client went away");
    const seen: string[] = [];
    const run = async () => {
      for await (const chunk of localProvider().chat(chatRequest("How long do refunds take?"), controller.signal)) {
        if ("delta" in chunk) seen.push(chunk.delta);
        if (seen.length === 2) controller.abort(reason);
      }
    };
    await expect(run()).rejects.toBe(reason);
    expect(seen).toHaveLength(2);
  });

  it("ends a pause between deltas at once when the signal aborts", async () => {
    const controller = new AbortController();
    const stream = localProvider({ deltaPauseMs: 60_000 }).chat(
      chatRequest("How long do refunds take?"),
      controller.signal,
    );
    const iterator = stream[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { delta: "Refunds " } });
    const next = iterator.next();
    controller.abort();
    await expect(next).rejects.toMatchObject({ name: "AbortError" });
  });
});
