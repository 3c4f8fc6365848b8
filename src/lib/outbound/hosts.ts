/**
 * Where a host name from a parsed URL (`url.hostname`) points, as far as can be told without
 * resolving it (Workers cannot). Pure functions, no I/O: url.ts turns the verdict into a policy.
 *
 * - `forbidden`: link-local addresses and cloud metadata services (addresses and names), and
 *   wildcard-DNS names that resolve to whatever address is written in them. These are the
 *   server-side request forgery targets that matter even on a developer's machine.
 * - `local`: loopback, private, shared, reserved and otherwise non-global addresses, and names
 *   that only resolve inside a network (localhost, *.local, *.internal, single labels).
 * - `public`: anything else.
 *
 * IP literals arrive normalised by the WHATWG URL parser: IPv4 in any spelling (`2130706433`,
 * `0x7f.1`, `0177.0.0.1`) as a dotted quad, IPv6 lowercase and compressed with an embedded IPv4
 * address written as hex groups (`[::ffff:7f00:1]`). The IPv6 parser below also accepts dotted
 * quads and uncompressed forms, so it does not depend on that normalisation.
 */
export type HostClass = "public" | "local" | "forbidden";

const RANK: Record<HostClass, number> = { public: 0, local: 1, forbidden: 2 };
const worse = (a: HostClass, b: HostClass): HostClass => (RANK[a] >= RANK[b] ? a : b);

/** IPv4 prefixes as [address, prefix length]. */
type Cidr = readonly [string, number];

// Always refused: link-local (169.254.169.254 is AWS, GCP, Azure, OpenStack… metadata) and the
// clouds whose metadata service sits elsewhere.
const FORBIDDEN_V4: Cidr[] = [
  ["169.254.0.0", 16],
  ["100.100.100.200", 32], // Alibaba Cloud metadata
  ["192.0.0.192", 32], // Oracle Cloud metadata
];

// Not globally reachable (IANA IPv4 special-purpose registry).
const LOCAL_V4: Cidr[] = [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host on most systems
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // shared address space (carrier-grade NAT)
  ["127.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 3], // multicast, reserved, broadcast: 224.0.0.0 and up
];

/** A dotted quad as an unsigned 32-bit number, or null. Only the canonical form (URL output). */
export function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const inCidr = (ip: number, [base, bits]: Cidr) =>
  bits === 0 || ip >>> (32 - bits) === parseIpv4(base)! >>> (32 - bits);

export function ipv4Class(ip: number): HostClass {
  if (FORBIDDEN_V4.some((c) => inCidr(ip, c))) return "forbidden";
  if (LOCAL_V4.some((c) => inCidr(ip, c))) return "local";
  return "public";
}

/**
 * An IPv6 address (without brackets) as its eight 16-bit groups, or null. Handles `::`
 * compression and a trailing embedded dotted quad (`::ffff:1.2.3.4`); zone ids are not valid
 * in URLs and are refused.
 */
export function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const last = halves.length === 2 ? tail : head;
  const quad = last.at(-1)?.includes(".") ? parseIpv4(last.pop()!) : undefined;
  if (quad === null) return null;
  if (quad !== undefined) last.push((quad >>> 16).toString(16), (quad & 0xffff).toString(16));
  if (![...head, ...tail].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const toNumbers = (gs: string[]) => gs.map((g) => parseInt(g, 16));
  if (halves.length === 1) return head.length === 8 ? toNumbers(head) : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...toNumbers(head), ...Array<number>(missing).fill(0), ...toNumbers(tail)];
}

const v4Of = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
const zero = (g: number[], from: number, to: number) => g.slice(from, to).every((x) => x === 0);

/**
 * The IPv4 address an IPv6 address carries, for the forms that deliver to it: IPv4-compatible
 * `::a.b.c.d`, IPv4-mapped `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and
 * the local-use `64:ff9b:1::/48` (its /96 form), 6to4 `2002:AABB:CCDD::/48`, and Teredo
 * `2001:0::/32`, whose client address is the last 32 bits inverted.
 */
export function embeddedIpv4(g: number[]): number | null {
  if (zero(g, 0, 6)) return v4Of(g[6]!, g[7]!);
  if (zero(g, 0, 5) && g[5] === 0xffff) return v4Of(g[6]!, g[7]!);
  if (zero(g, 0, 4) && g[4] === 0xffff && g[5] === 0) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && (zero(g, 2, 6) || g[2] === 1)) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4Of(g[1]!, g[2]!);
  if (g[0] === 0x2001 && g[1] === 0) return ~v4Of(g[6]!, g[7]!) >>> 0;
  return null;
}

/** The class of an IPv6 prefix on its own, before any IPv4 address it embeds is judged. */
function prefixClass(g: number[], embeds: boolean): HostClass {
  if (zero(g, 0, 7) && g[7]! <= 1) return "local"; // :: unspecified, ::1 loopback
  // Of NAT64, only the well-known 64:ff9b::/96 is global; the local-use 64:ff9b:1::/48 (and
  // the rest of the /32) reach a private translator.
  if (g[0] === 0x64 && g[1] === 0xff9b) return zero(g, 2, 6) ? "public" : "local";
  if (embeds) return "public"; // the other embedding forms are judged by their IPv4 address
  // Global unicast is 2000::/3; outside it are unique-local fc00::/7, site-local fec0::/10,
  // multicast ff00::/8, discard-only 100::/64 and unassigned space.
  if ((g[0]! & 0xe000) !== 0x2000) return "local";
  if (g[0] === 0x2001 && g[1]! < 0x200) return "local"; // 2001::/23 IETF protocol assignments (Teredo embeds)
  if (g[0] === 0x2001 && g[1] === 0xdb8) return "local"; // documentation
  if ((g[0]! & 0xfff0) === 0x3ff0) return "local"; // 3fff::/20 documentation
  return "public";
}

export function ipv6Class(g: number[]): HostClass {
  // fe80::/10 link-local; fd00:ec2::254 is AWS's metadata service over IPv6.
  if ((g[0]! & 0xffc0) === 0xfe80) return "forbidden";
  if (g[0] === 0xfd00 && g[1] === 0xec2 && zero(g, 2, 7) && g[7] === 0x254) return "forbidden";
  const v4 = embeddedIpv4(g);
  const own = prefixClass(g, v4 !== null);
  return v4 === null ? own : worse(own, ipv4Class(v4));
}

// Names a cloud resolves to its metadata service.
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);

// Public wildcard-DNS services: `10.0.0.1.nip.io` resolves to 10.0.0.1, `*.lvh.me` to
// 127.0.0.1, rbndr.us and 1u.ms alternate answers (DNS rebinding). A name under one of them
// says nothing about where it resolves, so they are refused with every subdomain.
const WILDCARD_DNS = [
  "nip.io",
  "sslip.io",
  "xip.io",
  "xip.name",
  "localtest.me",
  "lvh.me",
  "vcap.me",
  "traefik.me",
  "lacolhost.com",
  "localhost.direct",
  "fuf.me",
  "rbndr.us",
  "1u.ms",
  "rebind.it",
  "rebind.network",
];

// Names that only resolve inside a network: RFC 6761 localhost, mDNS .local, ICANN's private-use
// .internal, RFC 8375 home.arpa.
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa"];

const under = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** How a host (a URL's hostname: lowercase, IPv6 in brackets) is classed; see the top of the file. */
export function hostClass(hostname: string): HostClass {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseIpv6(host.slice(1, -1));
    return groups ? ipv6Class(groups) : "forbidden";
  }
  const v4 = parseIpv4(host);
  if (v4 !== null) return ipv4Class(v4);
  if (METADATA_NAMES.has(host) || WILDCARD_DNS.some((d) => under(host, d))) return "forbidden";
  // A single label (`intranet`, `localhost`) is never a public name.
  if (!host.includes(".") || LOCAL_SUFFIXES.some((d) => under(host, d))) return "local";
  return "public";
}
