import { AppError } from "../../lib/errors";

/**
 * File names as stored, echoed to other users (file messages carry them) and offered to browsers
 * in `Content-Disposition`. A name is a label, never a path or a type: the bytes decide the type
 * (src/lib/sniff.ts). Two things make a name dangerous to the person who downloads the file:
 * characters that make it read as something else, and an extension that makes the desktop run it.
 */

/**
 * Removed from names: C0 and C1 controls and DEL; the bidirectional marks, embeddings, overrides
 * and isolates (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069: `invoice\u202Efdp.hta`
 * reads as "invoiceath.pdf"); the zero-width space, line and paragraph separators, BOM and the
 * noncharacters U+FFFE/U+FFFF. Display text refuses the same characters (src/lib/text.ts); names
 * are removed from instead, because they usually come from a file system the user does not
 * control. Zero-width joiners stay: emoji sequences and Indic scripts need them.
 */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/gu;

/** Longest name kept, in UTF-16 code units (the schemas' limit). */
const MAX_NAME = 255;

/**
 * A file name safe to store and echo: the last path segment, NFC, without the characters above,
 * at most 255 code units (never half a surrogate pair), without leading spaces or trailing dots
 * and spaces (Windows drops those when saving, so `evil.html.` is really `evil.html`); "file" when
 * nothing is left. Idempotent, so names stored before a rule existed can be cleaned when shown.
 */
export function cleanName(raw: string): string {
  const base = (raw.split(/[\\/]/).pop() ?? "").normalize("NFC").replace(INVISIBLE, "");
  let cut = base.slice(0, MAX_NAME);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  // Trimmed after the cut, so the cut cannot expose a trailing dot again.
  const clean = cut.trim().replace(/[.\s]+$/u, "");
  return clean === "" ? "file" : clean;
}

/**
 * Extensions a desktop runs, installs, mounts or renders as a web page when the file is opened:
 * Gmail's list of blocked attachment types, plus the scripts, packages and shortcuts of macOS and
 * Linux desktops and the markup browsers open from disk with full script access. A downloaded
 * file with one of these is a program, whatever its bytes were sniffed as (a `.bat` is text).
 */
const RUNS_WHEN_OPENED = new Set([
  // Windows programs, installers, libraries and control-panel items.
  "exe",
  "ex_",
  "com",
  "scr",
  "pif",
  "cpl",
  "dll",
  "sys",
  "drv",
  "ocx",
  "vxd",
  "xll",
  "lib",
  "msi",
  "msp",
  "mst",
  "msc",
  "msix",
  "msixbundle",
  "appx",
  "appxbundle",
  "appref-ms",
  "application",
  "gadget",
  "diagcab",
  "diagcfg",
  "diagpack",
  "cab",
  "inf",
  "ins",
  "isp",
  "reg",
  "nsh",
  // Windows scripts (Windows Script Host, PowerShell, batch, HTML applications).
  "bat",
  "cmd",
  "hta",
  "js",
  "jse",
  "mjs",
  "vb",
  "vbe",
  "vbs",
  "ws",
  "wsc",
  "wsf",
  "wsh",
  "sct",
  "shb",
  "shs",
  "ps1",
  "ps1xml",
  "ps2",
  "ps2xml",
  "psc1",
  "psc2",
  "psd1",
  "psm1",
  "msh",
  "msh1",
  "msh2",
  "mshxml",
  "msh1xml",
  "msh2xml",
  // Shortcuts and shell locations that point at, or run, something else.
  "lnk",
  "url",
  "website",
  "scf",
  "search-ms",
  "library-ms",
  "settingcontent-ms",
  "desklink",
  // Disk images (they mount, and what is inside loses the download's mark of the web).
  "iso",
  "img",
  "vhd",
  "vhdx",
  // Java, Android and other runtimes.
  "jar",
  "jnlp",
  "class",
  "apk",
  "xapk",
  "aab",
  // macOS and Linux.
  "app",
  "command",
  "tool",
  "terminal",
  "workflow",
  "action",
  "dmg",
  "pkg",
  "mpkg",
  "sh",
  "bash",
  "zsh",
  "csh",
  "ksh",
  "deb",
  "rpm",
  "desktop",
  "appimage",
  // Access and Office macro containers that run on open.
  "ade",
  "adp",
  "mde",
  "mda",
  "accde",
  // Markup a browser opens from disk as a page, with script.
  "html",
  "htm",
  "xhtml",
  "xht",
  "shtml",
  "mht",
  "mhtml",
  "svg",
  "svgz",
  "xml",
  "xsl",
  "xslt",
]);

/**
 * True when the name's last extension makes a desktop run or render the file (`run.bat`,
 * `.hta`); a dangerous extension that is not the last (`run.bat.txt`) does nothing on any system.
 */
export function runsWhenOpened(name: string): boolean {
  const dot = name.lastIndexOf(".");
  return dot >= 0 && RUNS_WHEN_OPENED.has(name.slice(dot + 1).toLowerCase());
}

/**
 * The name a file is stored under: cleaned, and 415 `unsupported_file_type` when its extension
 * runs when opened. Refused rather than renamed: the uploader learns why at once and chooses the
 * new name, and nobody later finds a file under a name its sender never gave it.
 */
export function storedName(raw: string): string {
  const name = cleanName(raw);
  if (runsWhenOpened(name)) {
    const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
    throw new AppError(
      "unsupported_file_type",
      `Files with the extension '.${ext}' are not accepted ('${name}'): it makes the file run or open as a web page on the recipient's computer. Rename the file (for example '${name}.txt').`,
    );
  }
  return name;
}
