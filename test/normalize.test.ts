import { describe, expect, it } from "vitest";
import { detectType, normalize, refang } from "../src/modules/indicators/normalize";

describe("refanging", () => {
  it.each([
    ["hxxps://evil[.]example/x", "https://evil.example/x"],
    ["hxxp[:]//bad(.)example", "http://bad.example"],
    ["fxp://files{.}example", "ftp://files.example"],
    ["user[@]mail[dot]example", "user@mail.example"],
    ["1[.]2[.]3[.]4", "1.2.3.4"],
  ])("turns %s into %s", (raw, out) => expect(refang(raw)).toBe(out));
});

describe("normalisation", () => {
  it.each([
    ["198.51.100.7", "IPV4", "198.51.100.7"],
    ["198.51.100.77/24", "IPV4", "198.51.100.0/24"],
    ["198.51.100.7/32", "IPV4", "198.51.100.7"],
    ["2001:DB8:0:0::1", "IPV6", "2001:db8::1"],
    ["2001:db8::1/128", "IPV6", "2001:db8::1"],
    ["2001:db8:ffff::/32", "IPV6", "2001:db8::/32"],
    ["Evil.Example.", "DOMAIN", "evil.example"],
    ["Bücher.example", "DOMAIN", "xn--bcher-kva.example"],
    ["_dmarc.example.org", "DOMAIN", "_dmarc.example.org"],
    ["HTTP://Evil.Example:80/a b?x=1#frag", "URL", "http://evil.example/a%20b?x=1"],
    ["hxxps://evil[.]example", "URL", "https://evil.example/"],
    ["Phish@Evil.Example", "EMAIL", "phish@evil.example"],
    ["D41D8CD98F00B204E9800998ECF8427E", "MD5", "d41d8cd98f00b204e9800998ecf8427e"],
    ["da39a3ee5e6b4b0d3255bfef95601890afd80709", "SHA1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    [
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "SHA256",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ],
  ])("normalises %s as %s %s", (raw, type, value) => {
    expect(normalize(raw)).toEqual({ ok: true, type, value });
    expect(detectType(raw)).toBe(type);
  });

  it.each([
    ["010.1.1.1", undefined, /leading zeros/],
    ["1.2.3", undefined, /dotted-quad/],
    ["1.2.3.4/33", undefined, /0-32/],
    ["localhost", undefined, /not a recognisable/],
    ["bad..example", "DOMAIN", /not a domain/],
    ["javascript:alert(1)", "URL", /unsupported URL scheme|not a URL/],
    ["abc", "MD5", /hexadecimal|hex digits/],
    ["d41d8cd98f00b204e9800998ecf8427e", "SHA256", /SHA256 is 64 hex digits, not 32/],
    ["", undefined, /empty/],
    ["x\u0000@example.com", undefined, /control character/],
    ["http://x.example/a\u0000b", "URL", /control character/],
    ["evil\u0007.example", "DOMAIN", /control character/],
    ["[file:name = 'a\u0000']", "STIX_PATTERN", /NUL/],
  ] as const)("rejects %s (as %s) with a reason", (raw, type, reason) => {
    const r = normalize(raw, type);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it.each([
    "[file:name = 'x.exe' AND file:size > 100]",
    "([ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'x.example']) WITHIN 300 SECONDS",
  ])("keeps the STIX pattern %s whole", (p) => {
    expect(normalize(` ${p} `, "STIX_PATTERN")).toEqual({ ok: true, type: "STIX_PATTERN", value: p });
  });

  it("refuses a STIX pattern without any comparison", () => {
    expect(normalize("not a pattern", "STIX_PATTERN").ok).toBe(false);
  });
});
