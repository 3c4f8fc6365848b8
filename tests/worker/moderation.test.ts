import { describe, expect, it } from "vitest";
import { hashWords, maskSpans, matcherFor, WordMatcher, wordListModerator } from "../../src/lib/moderation";

describe("word matcher (Aho–Corasick)", () => {
  it("finds every match, overlapping and nested, case-insensitively", () => {
    const m = new WordMatcher(["he", "she", "his", "hers"]);
    expect(m.spans("uSHErs").sort()).toEqual(
      [
        [1, 4],
        [2, 4],
        [2, 6],
      ].sort(),
    );
    expect(new WordMatcher(["aa"]).spans("aaaa")).toEqual([
      [0, 2],
      [1, 3],
      [2, 4],
    ]);
    expect(new WordMatcher(["abc", "b"]).spans("xabcx").sort()).toEqual(
      [
        [1, 4],
        [2, 3],
      ].sort(),
    );
    expect(new WordMatcher([]).spans("anything")).toEqual([]);
  });

  it("works on CJK and astral characters by code point", () => {
    const m = new WordMatcher(["坏人", "人民", "😀x"]);
    expect(m.spans("他是坏人民").sort()).toEqual(
      [
        [2, 4],
        [3, 5],
      ].sort(),
    );
    expect(maskSpans("他是坏人民", m.spans("他是坏人民"))).toBe("他是***");
    expect(maskSpans("a😀Xb", m.spans("a😀Xb"))).toBe("a**b");
  });

  it("builds once per list per isolate", () => {
    expect(matcherFor(["a", "b"])).toBe(matcherFor(["a", "b"]));
    expect(matcherFor(["a", "b"])).not.toBe(matcherFor(["a", "c"]));
    expect(hashWords(["ab", "c"])).not.toBe(hashWords(["a", "bc"]));
  });

  it("moderator modes: off allows, block refuses, mask stars out overlapping matches, review holds", () => {
    expect(wordListModerator({ mode: "off", words: ["bad"] }).check("bad")).toEqual({ action: "allow", text: "bad" });
    expect(wordListModerator({ mode: "block", words: ["bad"] }).check("so BAD")).toEqual({
      action: "block",
      text: "so BAD",
    });
    expect(wordListModerator({ mode: "block", words: ["bad"] }).check("good")).toEqual({
      action: "allow",
      text: "good",
    });
    expect(wordListModerator({ mode: "mask", words: ["abc", "cde"] }).check("xabcdex")).toEqual({
      action: "mask",
      text: "x*****x",
    });
    expect(wordListModerator({ mode: "review", words: ["bad"] }).check("a bad one")).toEqual({
      action: "review",
      text: "a bad one",
    });
  });
});
