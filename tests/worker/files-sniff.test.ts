import { describe, expect, it } from "vitest";
import { extensionOf, nameContradicts, sniff } from "../../src/lib/sniff";
import { parseRange } from "../../src/workers/files/content";
import { cleanName, runsWhenOpened } from "../../src/workers/files/names";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? Array.from(p, (c) => c.charCodeAt(0)) : p)));
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("sniff", () => {
  it.each<[string, Uint8Array, string | null]>([
    ["png", bytes([0x89], "PNG\r\n\x1a\n", [0, 0, 0, 13]), "image/png"],
    ["jpeg", bytes([0xff, 0xd8, 0xff, 0xe0]), "image/jpeg"],
    ["gif", bytes("GIF89a", [1, 0]), "image/gif"],
    ["webp", bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 "), "image/webp"],
    ["wav", bytes("RIFF", [0, 0, 0, 0], "WAVEfmt "), "audio/wav"],
    ["pdf", utf8("%PDF-1.4\n"), "application/pdf"],
    ["zip", bytes([0x50, 0x4b, 0x03, 0x04, 20, 0]), "application/zip"],
    ["mp3 (id3)", bytes("ID3", [4, 0, 0]), "audio/mpeg"],
    ["mp3 (frame)", bytes([0xff, 0xfb, 0x90, 0x44]), "audio/mpeg"],
    ["ogg", bytes("OggS", [0, 2]), "audio/ogg"],
    ["flac", bytes("fLaC", [0]), "audio/flac"],
    ["mp4", bytes([0, 0, 0, 0x18], "ftypisom", [0, 0, 2, 0]), "video/mp4"],
    ["m4a", bytes([0, 0, 0, 0x18], "ftypM4A ", [0, 0, 2, 0]), "audio/mp4"],
    ["mov", bytes([0, 0, 0, 0x14], "ftypqt  ", [0, 0, 2, 0]), "video/quicktime"],
    ["heic", bytes([0, 0, 0, 0x18], "ftypheic", [0, 0, 0, 0]), "image/heic"],
    ["webm", bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84], "webm"), "video/webm"],
    ["exe", bytes("MZ", [0x90, 0]), "application/x-msdownload"],
    ["elf", bytes([0x7f], "ELF", [2, 1, 1]), "application/x-elf"],
    ["shell script", utf8("#!/bin/sh\necho hi\n"), "text/x-shellscript"],
    ["text", utf8("hello\tworld\r\n"), "text/plain"],
    ["utf-8 text with BOM", utf8("\ufeff你好，世界"), "text/plain"],
    ["text cut mid-character", utf8("€€€").subarray(0, 7), "text/plain"],
    ["html", utf8("  <!doctype html><p>x"), "text/html"],
    ["html (script)", utf8("<script>alert(1)</script>"), "text/html"],
    ["svg", utf8('<svg xmlns="http://www.w3.org/2000/svg"/>'), "image/svg+xml"],
    ["svg behind xml", utf8('<?xml version="1.0"?>\n<svg onload="alert(1)"/>'), "image/svg+xml"],
    ["xml", utf8('<?xml version="1.0"?><a/>'), "application/xml"],
    ["svg, self-closing", utf8("<svg/onload=alert(1)>"), "image/svg+xml"],
    ["html (img, not on WHATWG's list)", utf8("<img src=x onerror=alert(1)>"), "text/html"],
    ["html (script, self-closing)", utf8(" \n<script/src=//x.example></script>"), "text/html"],
    ["html (any tag with a handler)", utf8("<x-card onmouseover=alert(1)>"), "text/html"],
    ["text with an img further on", utf8("hello <img src=x onerror=alert(1)>"), "application/octet-stream"],
    ["text with svg further on", utf8("see:\n<svg/onload=alert(1)>"), "application/octet-stream"],
    ["text with a handler on any tag", utf8("click <my-el data-x=1 onclick=alert(1)>"), "application/octet-stream"],
    [
      "text with an xml stylesheet further on",
      utf8('notes\n<?xml-stylesheet href="x.xsl"?>'),
      "application/octet-stream",
    ],
    ["text with comparisons", utf8("if (a<b && c > d) x = a <b; // <3 < 4\n"), "text/plain"],
    ["text with e-mail style brackets", utf8("From: Ann <ann@example.com>\n"), "text/plain"],
    ["binary", bytes([0, 1, 2, 3, 4]), null],
    ["invalid utf-8", bytes([0xc3, 0x28, 0x41]), null],
    ["empty", new Uint8Array(0), null],
  ])("%s", (_, input, mime) => {
    expect(sniff(input)?.mime ?? null).toBe(mime);
  });

  it("compares names with the sniffed type", () => {
    const png = sniff(bytes([0x89], "PNG\r\n\x1a\n"))!;
    const zip = sniff(bytes([0x50, 0x4b, 0x03, 0x04]))!;
    expect(nameContradicts("a.PNG", png)).toBe(false);
    expect(nameContradicts("a.png", zip)).toBe(true);
    expect(nameContradicts("a.jpg", png)).toBe(true);
    expect(nameContradicts("report.docx", zip)).toBe(false);
    expect(nameContradicts("archive", zip)).toBe(false);
    expect(extensionOf(".bashrc")).toBe("");
    expect(extensionOf("a.tar.GZ")).toBe("gz");
  });
});

describe("files helpers", () => {
  it("parse single byte ranges and ignore the rest", () => {
    expect(parseRange("bytes=0-9", 100)).toEqual({ offset: 0, length: 10 });
    expect(parseRange("bytes=90-", 100)).toEqual({ offset: 90, length: 10 });
    expect(parseRange("bytes=-5", 100)).toEqual({ offset: 95, length: 5 });
    expect(parseRange("bytes=50-500", 100)).toEqual({ offset: 50, length: 50 });
    expect(parseRange("bytes=-500", 100)).toEqual({ offset: 0, length: 100 });
    for (const h of [undefined, "bytes=100-", "bytes=5-1", "bytes=-0", "bytes=0-1,3-4", "items=0-1", "bytes=-"])
      expect(parseRange(h, 100)).toBeNull();
  });

  it("clean file names", () => {
    expect(cleanName("C:\\Users\\me\\photo.jpg")).toBe("photo.jpg");
    expect(cleanName("../x/\u0007a.txt ")).toBe("a.txt");
    expect(cleanName("..")).toBe("file");
    expect(cleanName("")).toBe("file");
    expect(cleanName("e\u0301.txt")).toBe("\u00e9.txt");
    expect(cleanName("x".repeat(300)).length).toBe(255);
    // Bidirectional controls (overrides, embeddings, isolates, marks), zero-width space and BOM go.
    expect(cleanName("invoice\u202Efdp.hta")).toBe("invoicefdp.hta");
    expect(cleanName("\u2066a\u2069\u200E\u200F\u061C\u200B\uFEFFb.txt")).toBe("ab.txt");
    // Joiners stay: emoji sequences need them.
    expect(cleanName("\u{1F469}\u200D\u{1F4BB}.png")).toBe("\u{1F469}\u200D\u{1F4BB}.png");
    // Trailing dots and spaces go (Windows drops them when saving).
    expect(cleanName("evil.html.")).toBe("evil.html");
    expect(cleanName("evil.html . .\u202E")).toBe("evil.html");
    expect(cleanName(". . .")).toBe("file");
    // A cut never leaves half a surrogate pair.
    expect(cleanName(`${"x".repeat(254)}\u{1F600}`)).toBe("x".repeat(254));
  });

  it("know which extensions run when opened", () => {
    for (const n of [
      "run.bat",
      "RUN.BAT",
      "a.hta",
      ".hta",
      "x.exe",
      "x.js",
      "x.ps1",
      "x.lnk",
      "x.scr",
      "x.msi",
      "x.jar",
      "x.command",
      "x.desktop",
      "x.html",
      "x.svg",
    ]) {
      expect(runsWhenOpened(n), n).toBe(true);
    }
    for (const n of ["run.bat.txt", "notes.txt", "photo.png", "report.docx", "archive", ".bashrc", "x.py.pdf"])
      expect(runsWhenOpened(n), n).toBe(false);
  });
});
