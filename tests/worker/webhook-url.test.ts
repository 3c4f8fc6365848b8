import { describe, expect, it } from "vitest";
import { embeddedIpv4, hostClass, parseIpv4, parseIpv6 } from "../../src/lib/outbound/hosts";
import { urlProblem, urlSyntaxProblem } from "../../src/lib/outbound/url";

/**
 * Where a webhook may point, per environment:
 * - "public": accepted everywhere;
 * - "local": refused outside development (loopback, private, reserved, internal names), kept in
 *   development for local receivers;
 * - "never": refused in every environment (link-local, cloud metadata, wildcard-DNS names).
 */
type Verdict = "public" | "local" | "never";

const cases: [string, Verdict][] = [
  // Public hosts still pass.
  ["https://example.com/", "public"],
  ["https://hooks.example.com:8443/canopy?x=1", "public"],
  ["https://8.8.8.8/", "public"],
  ["https://1.1.1.1/hook", "public"],
  ["https://[2606:4700::1111]/", "public"],
  ["https://[2001:4860:4860::8888]/", "public"],
  ["https://[::ffff:8.8.8.8]/", "public"], // IPv4-mapped, judged by 8.8.8.8
  ["https://[64:ff9b::8.8.8.8]/", "public"], // NAT64 of a public address
  ["https://[2002:808:808::1]/", "public"], // 6to4 of 8.8.8.8
  ["https://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", "public"], // Teredo, client 8.8.8.8
  ["https://nip.io.example.com/", "public"], // only the domain and its subdomains are refused
  ["https://mynip.io/", "public"],
  ["https://internal.example.com/", "public"],

  // IPv4 loopback, private, shared, reserved; odd spellings are normalised by the URL parser.
  ["https://127.0.0.1/", "local"],
  ["https://2130706433/", "local"],
  ["https://0x7f.1/", "local"],
  ["https://0177.0.0.1/", "local"],
  ["https://127.1/", "local"],
  ["https://127。0。0。1/", "local"],
  ["https://0.0.0.0/", "local"],
  ["https://10.1.2.3/", "local"],
  ["https://172.16.0.1/", "local"],
  ["https://172.31.255.255/", "local"],
  ["https://192.168.1.1/", "local"],
  ["https://100.64.0.1/", "local"],
  ["https://192.0.0.8/", "local"],
  ["https://192.0.2.1/", "local"],
  ["https://198.18.0.1/", "local"],
  ["https://198.51.100.1/", "local"],
  ["https://203.0.113.1/", "local"],
  ["https://224.0.0.1/", "local"],
  ["https://255.255.255.255/", "local"],

  // IPv6 special ranges.
  ["https://[::1]/", "local"],
  ["https://[::]/", "local"],
  ["https://[0:0:0:0:0:0:0:1]/", "local"],
  ["https://[fc00::1]/", "local"],
  ["https://[fd12:3456::1]/", "local"],
  ["https://[fec0::1]/", "local"], // site-local (deprecated, still routed privately)
  ["https://[ff02::1]/", "local"],
  ["https://[100::1]/", "local"], // discard-only
  ["https://[2001:db8::1]/", "local"], // documentation
  ["https://[3fff::1]/", "local"], // documentation (RFC 9637)
  ["https://[5f00::1]/", "local"], // not global unicast (outside 2000::/3)

  // IPv6 forms that embed an IPv4 address are judged by it.
  ["https://[::7f00:1]/", "local"], // IPv4-compatible ::127.0.0.1
  ["https://[::127.0.0.1]/", "local"],
  ["https://[::ffff:127.0.0.1]/", "local"], // IPv4-mapped
  ["https://[::ffff:7f00:1]/", "local"],
  ["https://[::ffff:10.0.0.1]/", "local"],
  ["https://[::ffff:0:7f00:1]/", "local"], // SIIT ::ffff:0:a.b.c.d
  ["https://[::ffff:0:10.0.0.1]/", "local"],
  ["https://[64:ff9b::127.0.0.1]/", "local"], // NAT64
  ["https://[64:ff9b::a00:1]/", "local"],
  ["https://[64:ff9b:1::8.8.8.8]/", "local"], // local-use NAT64: not global whatever it embeds
  ["https://[2002:7f00:1::]/", "local"], // 6to4 of 127.0.0.1
  ["https://[2002:c0a8:101::1]/", "local"], // 6to4 of 192.168.1.1
  ["https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "local"], // Teredo, client 127.0.0.1

  // Internal and local names.
  ["https://localhost/", "local"],
  ["https://LOCALHOST./", "local"],
  ["https://api.localhost/", "local"],
  ["https://ｌｏｃａｌｈｏｓｔ/", "local"],
  ["https://printer.local/", "local"],
  ["https://db.internal/", "local"],
  ["https://vm.c.project.internal/", "local"],
  ["https://router.home.arpa/", "local"],
  ["https://intranet/", "local"], // a single label is never a public name

  // Link-local and cloud metadata: refused everywhere, development included.
  ["https://169.254.169.254/", "never"],
  ["http://169.254.169.254/latest/meta-data/", "never"],
  ["https://2852039166/", "never"], // 169.254.169.254 in decimal
  ["https://0xa9.0xfe.0xa9.0xfe/", "never"],
  ["https://0251.0376.0251.0376/", "never"],
  ["https://169.254.1.1/", "never"],
  ["https://100.100.100.200/", "never"], // Alibaba Cloud metadata
  ["https://192.0.0.192/", "never"], // Oracle Cloud metadata
  ["https://[fe80::1]/", "never"],
  ["https://[febf::1]/", "never"],
  ["https://[fd00:ec2::254]/", "never"], // AWS metadata over IPv6
  ["https://[::ffff:169.254.169.254]/", "never"],
  ["https://[::ffff:a9fe:a9fe]/", "never"],
  ["https://[::a9fe:a9fe]/", "never"],
  ["https://[::ffff:0:a9fe:a9fe]/", "never"],
  ["https://[64:ff9b::169.254.169.254]/", "never"],
  ["https://[64:ff9b:1::a9fe:a9fe]/", "never"],
  ["https://[2002:a9fe:a9fe::]/", "never"],
  ["https://[2001:0:4136:e378:8000:63bf:5601:5601]/", "never"], // Teredo, client 169.254.169.254
  ["https://metadata.google.internal/", "never"],
  ["http://METADATA.google.internal./computeMetadata/v1/", "never"],
  ["https://metadata/", "never"],
  ["https://metadata.goog/", "never"],
  ["https://instance-data/", "never"],
  ["https://instance-data.ec2.internal/", "never"],

  // Wildcard / rebinding DNS names can point anywhere, metadata included: refused everywhere.
  ["https://127.0.0.1.nip.io/", "never"],
  ["https://169.254.169.254.nip.io/", "never"],
  ["https://nip.io/", "never"],
  ["https://a-b.NIP.IO./", "never"],
  ["https://10-0-0-1.sslip.io/", "never"],
  ["https://x.xip.io/", "never"],
  ["https://localtest.me/", "never"],
  ["https://app.localtest.me/", "never"],
  ["https://lvh.me/", "never"],
  ["https://a.b.lvh.me/", "never"],
  ["https://foo.traefik.me/", "never"],
  ["https://vcap.me/", "never"],
  ["https://x.localhost.direct/", "never"],
  ["https://7f000001.c0a80001.rbndr.us/", "never"],
  ["https://make-127-0-0-1-rebind.1u.ms/", "never"],
];

describe("webhook URL policy", () => {
  it.each(cases)("%s is %s", (url, verdict) => {
    const production = urlProblem(url, "production");
    const development = urlProblem(url, "development");
    expect(production === null, `production: ${production}`).toBe(verdict === "public");
    expect(development === null, `development: ${development}`).toBe(verdict !== "never");
    // Staging, a typo or an unset variable is treated like production (fail closed).
    for (const other of ["staging", "", "Development"])
      expect(urlProblem(url, other) === null).toBe(verdict === "public");
  });

  it("outside development, only https", () => {
    expect(urlProblem("http://example.com/", "production")).toMatch(/https/);
    expect(urlProblem("http://127.0.0.1:8080/hook", "development")).toBeNull();
    expect(urlProblem("http://127.0.0.1:8080/hook", "test")).toBeNull();
  });

  it("syntax is checked apart from where the URL points", () => {
    for (const url of [
      "ftp://example.com/",
      "/relative",
      "example.com/x",
      "https://u:p@example.com/",
      "https://example.com/#x",
      "https://[::1/",
    ]) {
      expect(urlSyntaxProblem(url), url).not.toBeNull();
      expect(urlProblem(url, "development"), url).not.toBeNull();
    }
    for (const url of ["https://169.254.169.254/", "https://127.0.0.1.nip.io/", "https://example.com/"])
      expect(urlSyntaxProblem(url)).toBeNull();
  });
});

describe("webhook host parsing", () => {
  it("parses IPv6 with :: compression and embedded dotted quads, and refuses malformed ones", () => {
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("1:2:3:4:5:6:7::")).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(parseIpv6("FE80::A:b")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0xa, 0xb]);
    expect(parseIpv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIpv6("0:0:0:0:0:ffff:169.254.169.254")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xa9fe, 0xa9fe]);
    for (const bad of [
      "",
      ":",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7::8",
      "12345::",
      "::ffff:1.2.3",
      "::1.2.3.4:5",
      "::ffff:01.2.3.4",
      "fe80::1%eth0",
      "::g",
    ]) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
    expect(parseIpv4("256.0.0.1")).toBeNull();
    expect(parseIpv4("169.254.169.254")).toBe(0xa9fea9fe);
  });

  it("finds the IPv4 address each embedding form carries", () => {
    const v4 = (text: string) => embeddedIpv4(parseIpv6(text)!);
    const ip = parseIpv4("192.168.1.1")!;
    for (const form of [
      "::192.168.1.1",
      "::ffff:192.168.1.1",
      "::ffff:0:192.168.1.1",
      "64:ff9b::192.168.1.1",
      "64:ff9b:1::192.168.1.1",
      "2002:c0a8:101:1::1",
    ])
      expect(v4(form), form).toBe(ip);
    expect(v4("2001:0:4136:e378:8000:63bf:3f57:fefe")).toBe(ip); // Teredo: client XOR ffff:ffff
    expect(v4("2606:4700::1111")).toBeNull();
    expect(v4("fd00::c0a8:101")).toBeNull();
  });

  it("reads hosts as the URL parser writes them (brackets, trailing dots, case)", () => {
    expect(hostClass("[::ffff:7f00:1]")).toBe("local");
    expect(hostClass("[::ffff:127.0.0.1]")).toBe("local");
    expect(hostClass("[not-an-address]")).toBe("forbidden");
    expect(hostClass("Metadata.Google.Internal..")).toBe("forbidden");
    expect(hostClass("example.com.")).toBe("public");
  });
});
