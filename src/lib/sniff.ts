/**
 * Content-type sniffing from magic bytes. The client's file name and Content-Type are never
 * trusted for what a file is: the bytes decide, and callers compare the name's extension with
 * the result. Executables, HTML and SVG are recognised on purpose, so that they are named (and
 * refused by policy) instead of slipping through as "plain text" or "unknown".
 */

/** What the sniffer found: a MIME type and the file name extensions that belong to it. */
export interface Sniffed {
  mime: string;
  extensions: readonly string[];
  /** Another type a client may declare for these bytes (text with markup is text/plain to its author). */
  declaredAs?: string;
}

/** How many leading bytes the sniffer looks at; callers pass at least this many when they can. */
export const SNIFF_BYTES = 4096;

type Magic = readonly [offset: number, bytes: string | readonly number[]];

interface Signature {
  mime: string;
  extensions: readonly string[];
  /** Every [offset, bytes] pair must match. */
  magic: readonly Magic[];
}

// Order matters only where prefixes overlap (none of these do).
const SIGNATURES: readonly Signature[] = [
  { mime: "image/png", extensions: ["png"], magic: [[0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]]] },
  { mime: "image/jpeg", extensions: ["jpg", "jpeg", "jpe", "jfif"], magic: [[0, [0xff, 0xd8, 0xff]]] },
  { mime: "image/gif", extensions: ["gif"], magic: [[0, "GIF87a"]] },
  { mime: "image/gif", extensions: ["gif"], magic: [[0, "GIF89a"]] },
  {
    mime: "image/webp",
    extensions: ["webp"],
    magic: [
      [0, "RIFF"],
      [8, "WEBP"],
    ],
  },
  {
    mime: "image/bmp",
    extensions: ["bmp"],
    magic: [
      [0, "BM"],
      [6, [0, 0, 0, 0]],
    ],
  },
  { mime: "image/tiff", extensions: ["tif", "tiff"], magic: [[0, [0x49, 0x49, 0x2a, 0x00]]] },
  { mime: "image/tiff", extensions: ["tif", "tiff"], magic: [[0, [0x4d, 0x4d, 0x00, 0x2a]]] },
  { mime: "application/pdf", extensions: ["pdf"], magic: [[0, "%PDF-"]] },
  { mime: "application/zip", extensions: ["zip"], magic: [[0, [0x50, 0x4b, 0x03, 0x04]]] },
  { mime: "application/zip", extensions: ["zip"], magic: [[0, [0x50, 0x4b, 0x05, 0x06]]] },
  { mime: "application/gzip", extensions: ["gz", "tgz"], magic: [[0, [0x1f, 0x8b]]] },
  { mime: "application/x-7z-compressed", extensions: ["7z"], magic: [[0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]]] },
  { mime: "application/vnd.rar", extensions: ["rar"], magic: [[0, "Rar!"]] },
  { mime: "audio/mpeg", extensions: ["mp3"], magic: [[0, "ID3"]] },
  { mime: "audio/mpeg", extensions: ["mp3"], magic: [[0, [0xff, 0xfb]]] },
  { mime: "audio/mpeg", extensions: ["mp3"], magic: [[0, [0xff, 0xf3]]] },
  { mime: "audio/mpeg", extensions: ["mp3"], magic: [[0, [0xff, 0xf2]]] },
  { mime: "audio/aac", extensions: ["aac"], magic: [[0, [0xff, 0xf1]]] },
  { mime: "audio/aac", extensions: ["aac"], magic: [[0, [0xff, 0xf9]]] },
  { mime: "audio/ogg", extensions: ["ogg", "oga", "opus"], magic: [[0, "OggS"]] },
  {
    mime: "audio/wav",
    extensions: ["wav"],
    magic: [
      [0, "RIFF"],
      [8, "WAVE"],
    ],
  },
  { mime: "audio/flac", extensions: ["flac"], magic: [[0, "fLaC"]] },
  {
    mime: "video/x-msvideo",
    extensions: ["avi"],
    magic: [
      [0, "RIFF"],
      [8, "AVI "],
    ],
  },
  // Executables and binaries that must never be mistaken for something harmless.
  { mime: "application/x-msdownload", extensions: ["exe", "dll", "com", "scr", "msi"], magic: [[0, "MZ"]] },
  { mime: "application/x-elf", extensions: ["elf", "so"], magic: [[0, [0x7f, 0x45, 0x4c, 0x46]]] },
  { mime: "application/x-mach-binary", extensions: ["dylib"], magic: [[0, [0xcf, 0xfa, 0xed, 0xfe]]] },
  { mime: "application/x-mach-binary", extensions: ["dylib"], magic: [[0, [0xce, 0xfa, 0xed, 0xfe]]] },
  { mime: "application/x-mach-binary", extensions: ["dylib"], magic: [[0, [0xfe, 0xed, 0xfa, 0xce]]] },
  { mime: "application/x-mach-binary", extensions: ["dylib"], magic: [[0, [0xfe, 0xed, 0xfa, 0xcf]]] },
  // Mach-O universal binaries and Java classes share CAFEBABE; both are executable code.
  { mime: "application/java-vm", extensions: ["class", "jar"], magic: [[0, [0xca, 0xfe, 0xba, 0xbe]]] },
  { mime: "application/wasm", extensions: ["wasm"], magic: [[0, [0x00, 0x61, 0x73, 0x6d]]] },
  { mime: "application/vnd.android.dex", extensions: ["dex"], magic: [[0, "dex\n"]] },
  { mime: "text/x-shellscript", extensions: ["sh", "bash", "zsh"], magic: [[0, "#!"]] },
];

// ISO base media files (MP4, MOV, HEIC …) carry "ftyp" at offset 4 and a brand after it.
const BRANDS: Record<string, Sniffed> = {
  "M4A ": { mime: "audio/mp4", extensions: ["m4a", "m4b", "mp4"] },
  "M4B ": { mime: "audio/mp4", extensions: ["m4a", "m4b", "mp4"] },
  "qt  ": { mime: "video/quicktime", extensions: ["mov", "qt"] },
  heic: { mime: "image/heic", extensions: ["heic"] },
  heix: { mime: "image/heic", extensions: ["heic"] },
  mif1: { mime: "image/heif", extensions: ["heif", "heic"] },
  avif: { mime: "image/avif", extensions: ["avif"] },
};
const MP4: Sniffed = { mime: "video/mp4", extensions: ["mp4", "m4v", "3gp"] };
const HTML: Sniffed = { mime: "text/html", extensions: ["html", "htm", "xhtml"] };
const SVG: Sniffed = { mime: "image/svg+xml", extensions: ["svg", "svgz"] };
const XML: Sniffed = { mime: "application/xml", extensions: ["xml"] };
const TEXT: Sniffed = { mime: "text/plain", extensions: ["txt", "text", "md", "markdown", "csv", "tsv", "log"] };
/**
 * Text with markup past its start (`hello <img src=x onerror=…>`, a README with inline HTML):
 * accepted where text is, but stored and served as opaque bytes, so that neither a browser nor
 * a client that previews text inline treats it as harmless text it may render.
 */
const MARKED_TEXT: Sniffed = { mime: "application/octet-stream", extensions: TEXT.extensions, declaredAs: TEXT.mime };

// The WHATWG MIME Sniffing standard's "HTML" patterns: a tag from this list, then space or '>'
// (and '/', which HTML parsers also accept after a tag name: `<script/src=…>`).
const HTML_START = /^<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s/>]/i;

// Elements that run, load or embed something, or take over the page, when rendered. Plain
// formatting tags (`<b>`, `<p>`) are left out: they do nothing alone, and `a<b && c` is code.
const ACTIVE_TAGS =
  "!doctype|html|head|body|script|noscript|noembed|iframe|frame|frameset|object|embed|applet|param|svg|math|img|image|picture|" +
  "video|audio|source|track|input|form|button|textarea|select|isindex|link|meta|base|style|template|details|dialog|marquee|xmp|plaintext|listing";
/**
 * Markup that does something when rendered, anywhere in the text: an active element; any
 * element (custom ones included) with an event handler or a URL attribute (`<x-card
 * onmouseover=…>`, `<a href=javascript:…>`); an XML processing instruction (`<?xml-stylesheet`
 * runs XSLT).
 */
const MARKUP = new RegExp(
  [
    `<(?:${ACTIVE_TAGS})[\\s/>]`,
    "<[a-z][\\w:.-]*[\\s/][^<>]*?(?:\\bon[a-z]+|\\b(?:href|src|srcdoc|action|formaction|xlink:href))\\s*=",
    "<\\?xml",
  ].join("|"),
  "i",
);

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

function matches(bytes: Uint8Array, [offset, pattern]: Magic): boolean {
  const want = typeof pattern === "string" ? ascii(pattern) : pattern;
  if (bytes.length < offset + want.length) return false;
  return want.every((b, i) => bytes[offset + i] === b);
}

function sniffIsoMedia(bytes: Uint8Array): Sniffed | null {
  if (!matches(bytes, [4, "ftyp"]) || bytes.length < 12) return null;
  const brand = String.fromCharCode(...bytes.subarray(8, 12));
  return BRANDS[brand] ?? MP4;
}

function sniffEbml(bytes: Uint8Array): Sniffed | null {
  if (!matches(bytes, [0, [0x1a, 0x45, 0xdf, 0xa3]])) return null;
  // The DocType element sits in the EBML header, within the first few dozen bytes.
  const head = String.fromCharCode(...bytes.subarray(0, 64));
  return head.includes("webm")
    ? { mime: "video/webm", extensions: ["webm"] }
    : { mime: "video/x-matroska", extensions: ["mkv", "mka"] };
}

/**
 * Text: valid UTF-8 (a character cut at the end of the prefix is fine) without control
 * characters other than tab, line feed, form feed and carriage return. Markup at the start is
 * classified as HTML, SVG or XML, which callers refuse, since browsers may render it; active
 * markup further on makes it {@link MARKED_TEXT}.
 */
function sniffText(bytes: Uint8Array): Sniffed | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes, { stream: true });
  } catch {
    return null;
  }
  if (text.length === 0 || /[\x00-\x08\x0b\x0e-\x1f\x7f]/.test(text)) return null;
  const start = text.trimStart();
  const markup = MARKUP.exec(start);
  if (start.startsWith("<")) {
    if (/^<svg[\s/>]/i.test(start)) return SVG;
    if (/^<\?xml/i.test(start)) return /<svg[\s/>]/i.test(start) ? SVG : XML;
    // exec finds the leftmost match, so index 0 means the text opens with active markup.
    if (HTML_START.test(start) || markup?.index === 0) return HTML;
  }
  return markup ? MARKED_TEXT : TEXT;
}

/**
 * The type of a file from its first bytes (pass up to {@link SNIFF_BYTES}), or null when the
 * bytes match nothing known and are not text.
 */
export function sniff(bytes: Uint8Array): Sniffed | null {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.length === 0) return null;
  for (const sig of SIGNATURES) {
    if (sig.magic.every((m) => matches(head, m))) return { mime: sig.mime, extensions: sig.extensions };
  }
  return sniffIsoMedia(head) ?? sniffEbml(head) ?? sniffText(head);
}

// Every extension the sniffer can vouch for: a name ending in one of these claims that type.
const KNOWN_EXTENSIONS = new Set<string>([
  ...SIGNATURES.flatMap((s) => s.extensions),
  ...Object.values(BRANDS).flatMap((s) => s.extensions),
  ...[MP4, HTML, SVG, XML, TEXT].flatMap((s) => s.extensions),
  "webm",
  "mkv",
  "mka",
]);

/** The lowercased extension of a file name ("" when it has none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : "";
}

/**
 * True when the name's extension claims a type other than the sniffed one (a PNG name on ZIP
 * bytes). Names without an extension, or with one the sniffer does not know (.docx, .json),
 * claim nothing.
 */
export function nameContradicts(name: string, sniffed: Sniffed): boolean {
  const ext = extensionOf(name);
  return ext !== "" && KNOWN_EXTENSIONS.has(ext) && !sniffed.extensions.includes(ext);
}
