import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Tlp } from "../src/modules/access/tlp";
import {
  ADMIRALTY_NOT_JUDGED,
  CONFIDENCE_SCALES,
  type ConfidenceScale,
  fromScale,
  NOT_SPECIFIED,
  toScale,
  toScales,
} from "../src/modules/indicators/confidence";
import type { ObservableType } from "../src/modules/indicators/normalize";
import {
  canonicalJson,
  deterministicScoId,
  identityFor,
  patternFor,
  scoId,
  scoObject,
  selectIdHash,
  stixBundle,
  stixTimestamp,
  TLP1_MARKING_ID,
  TLP2_EXTENSION_ID,
  TLP2_MARKING_ID,
  tlp2MarkingDefinition,
  tlpOfMarkingId,
  uuidv5,
} from "../src/modules/indicators/stix";
import { compareTimestamps, fixturesDir, schemasDir, validateStix } from "./stix-schemas";

const readJson = (...p: string[]): unknown => JSON.parse(readFileSync(path.join(fixturesDir, ...p), "utf8"));

describe("deterministic SCO ids (STIX 2.1 section 2.9)", () => {
  it("builds RFC 4122 version-5 UUIDs (python: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'))", () => {
    expect(uuidv5("python.org", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
  });

  // Ids published in the STIX 2.1 text's own examples (sections 2.9, 6.4, 6.5, 6.7, 6.8, 6.9, 6.15).
  it.each<[ObservableType, string, string]>([
    ["IPV4", "198.51.100.3", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"],
    ["IPV4", "198.51.100.0/24", "ipv4-addr--1ea47840-aa39-5aa8-b4a2-cd203eb6662a"],
    ["IPV6", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6-addr--85a85a8c-ee99-5722-946d-3c3a3270fc6f"],
    ["IPV6", "2001:0db8::/96", "ipv6-addr--084d3b4c-7785-568a-a569-0c61c95754ab"],
    ["DOMAIN", "example.com", "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"],
    ["EMAIL", "john@example.com", "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934"],
    ["URL", "https://example.com/research/index.html", "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55"],
    [
      "SHA256",
      "ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a",
      "file--70221dbf-52fd-5377-9619-c0ce6b3ffc8c",
    ],
    [
      "SHA256",
      "19c549ec2628b989382f6b280cbd7bb836a0b461332c0fe53511ce7d584b89d3",
      "file--c0e2b1c9-232d-5b64-8b74-b6aee5bb9c47",
    ],
    [
      "SHA256",
      "0969de02ecf8a5f003e3f6d063d848c8a193aada092623f8ce408c15bcb5f038",
      "file--5d0833b7-065e-571f-8bf2-657cb9569570",
    ],
  ])("%s %s is the spec's %s", (type, value, id) => expect(scoId(type, value)).toBe(id));

  // Computed independently with python3: uuid.uuid5(ns, json.dumps(props, sort_keys=True,
  // separators=(",", ":"), ensure_ascii=False)), which is RFC 8785 for these inputs.
  it.each<[ObservableType, string, string]>([
    ["IPV4", "198.51.100.1", "ipv4-addr--2b3e2c17-3144-5591-9c88-a605220f8c0c"],
    ["IPV4", "203.0.113.0/24", "ipv4-addr--a0895f10-d89d-56ad-a4a4-dc873ee08b8c"],
    ["IPV6", "2001:db8::1", "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26"],
    ["DOMAIN", "xn--bcher-kva.example", "domain-name--2756bcd2-4f67-5280-b058-56605b46834f"],
    ["DOMAIN", "b\u00fccher.example", "domain-name--dbf3aff2-b3cd-57d2-9616-0ddfde9d01ad"],
    ["URL", "http://evil.example/a%20b?x=1", "url--c58ceb34-97ce-524b-8f5b-26dcb85aef37"],
    ["URL", 'http://x.example/a"b\\c\n\u001f\u00e9\ud83d\ude00', "url--35a8b089-3dd7-58c8-ab4c-8416ac4827c9"],
    ["EMAIL", "phish@evil.example", "email-addr--e9c7461d-4c69-5b9b-9de9-2e64d776257f"],
    ["MD5", "d41d8cd98f00b204e9800998ecf8427e", "file--02fff920-f614-527c-81d1-6353633a6d21"],
    ["SHA1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "file--fa6e66a5-f019-51f9-8ab5-812023e58c6e"],
    [
      "SHA256",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "file--22f8ff52-8f62-5f03-a53a-6f50f54fd74c",
    ],
    [
      "SHA512",
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
      "file--39cf7bb7-502d-50ad-845c-b910a0598953",
    ],
  ])("%s %j is %s (python cross-check)", (type, value, id) => expect(scoId(type, value)).toBe(id));

  it("has no SCO for a STIX pattern", () => {
    expect(scoId("STIX_PATTERN", "[process:name = 'x']")).toBeNull();
    expect(scoObject("STIX_PATTERN", "[process:name = 'x']")).toBeNull();
  });

  it("canonicalises several contributing properties (spec 6.7: file--949eb97a… from hashes and name)", () => {
    const props = {
      name: "foo.dll",
      hashes: { "SHA-256": "fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db" },
    };
    expect(canonicalJson(props)).toBe(
      '{"hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"},"name":"foo.dll"}',
    );
    expect(deterministicScoId("file", props)).toBe("file--949eb97a-da1e-5292-8959-03c4249dc9f3");
  });

  it("writes RFC 8785 canonical JSON", () => {
    expect(canonicalJson({ b: [1, 2.5, -0, 1e21, true, null], a: "\u20ac\u001f", A: {} })).toBe(
      '{"A":{},"a":"\u20ac\\u001f","b":[1,2.5,0,1e+21,true,null]}',
    );
    expect(() => canonicalJson({ x: Number.NaN })).toThrow();
  });

  it("picks the one contributing file hash in the spec's order MD5, SHA-1, SHA-256, SHA-512", () => {
    expect(selectIdHash({ "SHA-512": "d", "SHA-256": "c", "SHA-1": "b", MD5: "a" })).toEqual({ MD5: "a" });
    expect(selectIdHash({ "SHA-512": "d", "SHA-256": "c", "SHA-1": "b" })).toEqual({ "SHA-1": "b" });
    expect(selectIdHash({ "SHA-512": "d", "SHA-256": "c" })).toEqual({ "SHA-256": "c" });
    expect(selectIdHash({ TLSH: "t", "SHA-512": "d" })).toEqual({ "SHA-512": "d" });
    expect(selectIdHash({ TLSH: "t", SSDEEP: "s" })).toEqual({ SSDEEP: "s" });
    expect(selectIdHash({})).toBeNull();
  });

  it("gives the same id through the written-out JCS of scoId as through canonicalJson, for any value and type", () => {
    const types: ObservableType[] = ["IPV4", "IPV6", "DOMAIN", "URL", "EMAIL", "MD5", "SHA1", "SHA256", "SHA512"];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.string({ unit: "binary" }), (type, value) => {
        const sco = scoObject(type, value);
        const {
          type: stixType,
          spec_version: _v,
          id: _id,
          ...contributing
        } = sco ?? { type: "", spec_version: "", id: "" };
        expect(scoId(type, value)).toBe(deterministicScoId(stixType, contributing));
        expect(sco?.id).toBe(scoId(type, value));
      }),
      { numRuns: 300 },
    );
  });

  it("builds SCOs carrying their deterministic id", () => {
    expect(scoObject("IPV4", "198.51.100.3")).toEqual({
      type: "ipv4-addr",
      spec_version: "2.1",
      id: "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
      value: "198.51.100.3",
    });
    expect(scoObject("SHA256", "ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a")).toEqual({
      type: "file",
      spec_version: "2.1",
      id: "file--70221dbf-52fd-5377-9619-c0ce6b3ffc8c",
      hashes: { "SHA-256": "ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a" },
    });
  });
});

describe("patterns", () => {
  it.each<[ObservableType, string, string]>([
    ["IPV4", "198.51.100.1", "[ipv4-addr:value = '198.51.100.1']"],
    ["IPV4", "198.51.100.0/24", "[ipv4-addr:value = '198.51.100.0/24']"],
    ["IPV6", "2001:db8::1", "[ipv6-addr:value = '2001:db8::1']"],
    ["DOMAIN", "evil.example", "[domain-name:value = 'evil.example']"],
    ["URL", "http://evil.example/a%20b?x=1", "[url:value = 'http://evil.example/a%20b?x=1']"],
    ["EMAIL", "phish@evil.example", "[email-addr:value = 'phish@evil.example']"],
    ["MD5", "d41d8cd98f00b204e9800998ecf8427e", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"],
    [
      "SHA1",
      "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    ],
    ["SHA256", "e3b0", "[file:hashes.'SHA-256' = 'e3b0']"],
    ["SHA512", "cf83", "[file:hashes.'SHA-512' = 'cf83']"],
  ])("%s %s → %s", (type, value, pattern) => expect(patternFor(type, value)).toBe(pattern));

  it("escapes quotes and backslashes (section 9.2)", () => {
    expect(patternFor("URL", "http://x.example/it's\\here")).toBe("[url:value = 'http://x.example/it\\'s\\\\here']");
    expect(patternFor("URL", "http://x.example/\\'")).toBe("[url:value = 'http://x.example/\\\\\\'']");
  });

  it("returns a STIX pattern as it is", () => {
    const p = "[process:name = 'evil.exe'] FOLLOWEDBY [file:name = 'x']";
    expect(patternFor("STIX_PATTERN", p)).toBe(p);
  });
});

describe("TLP markings", () => {
  const tlp2Dir = "stix2.1-tlp2-marking-extension";
  const example = (file: string) => (readJson(tlp2Dir, "examples", file) as { objects: unknown[] }).objects[0];
  interface SchemaNode {
    enum?: string[];
    properties?: Record<string, SchemaNode>;
  }
  const extSchema = readJson(tlp2Dir, "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json") as {
    definitions: Record<string, SchemaNode>;
  };

  it.each<[Tlp, string]>([
    ["CLEAR", "tlp-clear.json"],
    ["AMBER", "tlp-amber.json"],
    ["AMBER_STRICT", "tlp-amber+strict.json"],
  ])("%s deep-equals the published example %s", (tlp, file) => {
    expect(tlp2MarkingDefinition(tlp)).toEqual(example(file));
  });

  it.each<[Tlp, string]>([
    ["CLEAR", "tlp_clear"],
    ["GREEN", "tlp_green"],
    ["AMBER", "tlp_amber"],
    ["AMBER_STRICT", "tlp_amber_strict"],
    ["RED", "tlp_red"],
  ])("%s has the id, name and tlp_2_0 value the extension schema pins (%s)", (tlp, def) => {
    const props = extSchema.definitions[def]?.properties;
    const md = tlp2MarkingDefinition(tlp);
    expect(md.id).toBe(props?.id?.enum?.[0]);
    expect(TLP2_MARKING_ID[tlp]).toBe(md.id);
    expect(md.name).toBe(props?.name?.enum?.[0]);
    const inner = props?.extensions?.properties?.[TLP2_EXTENSION_ID]?.properties;
    expect(md.extensions[TLP2_EXTENSION_ID]).toEqual({
      extension_type: inner?.extension_type?.enum?.[0],
      tlp_2_0: inner?.tlp_2_0?.enum?.[0],
    });
    expect(validateStix(md)).toEqual([]);
  });

  it("are checked against the extension's own schema too (a mislabelled TLP 2.0 marking fails)", () => {
    const red = tlp2MarkingDefinition("RED");
    expect(validateStix({ ...red, name: "TLP:GREEN" }).join("\n")).toMatch(/TLP 2\.0 extension/);
    const ext = { [TLP2_EXTENSION_ID]: { extension_type: "property-extension", tlp_2_0: "green" } };
    expect(validateStix({ ...red, extensions: ext }).join("\n")).toMatch(/TLP 2\.0 extension/);
    for (const file of ["tlp-clear.json", "tlp-amber.json", "tlp-amber+strict.json", "using-tlp2.0-green.json"])
      expect(validateStix(readJson(tlp2Dir, "examples", file)), file).toEqual([]);
  });

  it("uses the GREEN id of the fixture that marks a relationship TLP 2.0 green", () => {
    const bundle = readJson(tlp2Dir, "examples", "using-tlp2.0-green.json") as {
      objects: { object_marking_refs?: string[] }[];
    };
    expect(bundle.objects.flatMap((o) => o.object_marking_refs ?? [])).toEqual([TLP2_MARKING_ID.GREEN]);
  });

  it("knows the TLP 1.0 ids as the 2.1 schema pins them, and maps both generations to the hub's TLP", () => {
    const schema = readFileSync(path.join(schemasDir, "common", "marking-definition.json"), "utf8");
    for (const id of Object.values(TLP1_MARKING_ID)) expect(schema).toContain(id);
    expect(tlpOfMarkingId(TLP1_MARKING_ID.white)).toBe("CLEAR");
    expect(tlpOfMarkingId(TLP1_MARKING_ID.green)).toBe("GREEN");
    expect(tlpOfMarkingId(TLP1_MARKING_ID.amber)).toBe("AMBER");
    expect(tlpOfMarkingId(TLP1_MARKING_ID.red)).toBe("RED");
    for (const [tlp, id] of Object.entries(TLP2_MARKING_ID)) expect(tlpOfMarkingId(id)).toBe(tlp);
    expect(tlpOfMarkingId("marking-definition--00000000-0000-4000-8000-000000000000")).toBeNull();
  });
});

describe("confidence scales (STIX 2.1 Appendix A)", () => {
  // [confidence, expected value] at both ends of every range in the appendix's tables.
  const boundaries: Record<Exclude<ConfidenceScale, "zeroTen">, [number, string][]> = {
    noneLowMedHigh: [
      [0, "None"],
      [1, "Low"],
      [29, "Low"],
      [30, "Med"],
      [69, "Med"],
      [70, "High"],
      [100, "High"],
    ],
    admiralty: [
      [0, "5 - Improbable"],
      [19, "5 - Improbable"],
      [20, "4 - Doubtful"],
      [39, "4 - Doubtful"],
      [40, "3 - Possibly True"],
      [59, "3 - Possibly True"],
      [60, "2 - Probably True"],
      [79, "2 - Probably True"],
      [80, "1 - Confirmed by other sources"],
      [100, "1 - Confirmed by other sources"],
    ],
    wep: [
      [0, "Impossible"],
      [1, "Highly Unlikely/Almost Certainly Not"],
      [19, "Highly Unlikely/Almost Certainly Not"],
      [20, "Unlikely/Probably Not"],
      [39, "Unlikely/Probably Not"],
      [40, "Even Chance"],
      [59, "Even Chance"],
      [60, "Likely/Probable"],
      [79, "Likely/Probable"],
      [80, "Highly likely/Almost Certain"],
      [99, "Highly likely/Almost Certain"],
      [100, "Certain"],
    ],
    dni: [
      [0, "Almost No Chance / Remote"],
      [9, "Almost No Chance / Remote"],
      [10, "Very Unlikely / Highly Improbable"],
      [19, "Very Unlikely / Highly Improbable"],
      [20, "Unlikely / Improbable"],
      [39, "Unlikely / Improbable"],
      [40, "Roughly Even Chance / Roughly Even Odds"],
      [59, "Roughly Even Chance / Roughly Even Odds"],
      [60, "Likely / Probable"],
      [79, "Likely / Probable"],
      [80, "Very Likely / Highly Probable"],
      [89, "Very Likely / Highly Probable"],
      [90, "Almost Certain / Nearly Certain"],
      [100, "Almost Certain / Nearly Certain"],
    ],
  };
  // The single STIX value the appendix gives for converting each scale value.
  const toStix: Record<Exclude<ConfidenceScale, "zeroTen">, [string, number][]> = {
    noneLowMedHigh: [
      ["None", 0],
      ["Low", 15],
      ["Med", 50],
      ["High", 85],
    ],
    admiralty: [
      ["5 - Improbable", 10],
      ["4 - Doubtful", 30],
      ["3 - Possibly True", 50],
      ["2 - Probably True", 70],
      ["1 - Confirmed by other sources", 90],
    ],
    wep: [
      ["Impossible", 0],
      ["Highly Unlikely/Almost Certainly Not", 10],
      ["Unlikely/Probably Not", 30],
      ["Even Chance", 50],
      ["Likely/Probable", 70],
      ["Highly likely/Almost Certain", 90],
      ["Certain", 100],
    ],
    dni: [
      ["Almost No Chance / Remote", 5],
      ["Very Unlikely / Highly Improbable", 15],
      ["Unlikely / Improbable", 30],
      ["Roughly Even Chance / Roughly Even Odds", 50],
      ["Likely / Probable", 70],
      ["Very Likely / Highly Probable", 85],
      ["Almost Certain / Nearly Certain", 95],
    ],
  };

  for (const scale of Object.keys(boundaries) as (keyof typeof boundaries)[]) {
    it(`${scale}: 0-100 → scale value at every range boundary`, () => {
      for (const [confidence, label] of boundaries[scale]) {
        expect(toScale(scale, confidence), `${confidence}`).toBe(label);
        expect(toScales(confidence)[scale]).toBe(label);
      }
    });
    it(`${scale}: scale value → 0-100, and back to the same scale value`, () => {
      for (const [label, value] of toStix[scale]) {
        expect(fromScale(scale, label)).toBe(value);
        expect(toScale(scale, value)).toBe(label);
      }
    });
  }

  it("0-10 scale: 0-4 → 0, 5-14 → 1, … 95-100 → 10; n → 10n", () => {
    expect([0, 4, 5, 14, 15, 54, 55, 94, 95, 100].map((c) => toScale("zeroTen", c))).toEqual([
      "0",
      "0",
      "1",
      "1",
      "2",
      "5",
      "6",
      "9",
      "10",
      "10",
    ]);
    for (let n = 0; n <= 10; n++) expect(fromScale("zeroTen", String(n))).toBe(10 * n);
  });

  it("every scale's ranges cover 0-100 exactly once", () => {
    for (const [scale, table] of Object.entries(CONFIDENCE_SCALES)) {
      const covered = table.flatMap((e) => Array.from({ length: e.max - e.min + 1 }, (_, i) => e.min + i));
      expect(covered, scale).toEqual(Array.from({ length: 101 }, (_, i) => i));
      for (const e of table) expect(e.value >= e.min && e.value <= e.max, `${scale} ${e.label}`).toBe(true);
    }
  });

  it("an absent confidence is Not Specified (Admiralty: 6 - Truth cannot be judged), and back", () => {
    expect(toScales(null)).toEqual({
      noneLowMedHigh: NOT_SPECIFIED,
      zeroTen: NOT_SPECIFIED,
      admiralty: ADMIRALTY_NOT_JUDGED,
      wep: NOT_SPECIFIED,
      dni: NOT_SPECIFIED,
    });
    expect(fromScale("admiralty", "6 - Truth cannot be judged")).toBeNull();
    expect(fromScale("admiralty", "6")).toBeNull();
    expect(fromScale("wep", "Not Specified")).toBeNull();
  });

  it("reads labels regardless of case and spacing, and the Admiralty digit alone", () => {
    expect(fromScale("wep", "highly likely / almost certain")).toBe(90);
    expect(fromScale("dni", "almost no chance/remote")).toBe(5);
    expect(fromScale("admiralty", "2")).toBe(70);
    expect(fromScale("admiralty", "3 - possibly true")).toBe(50);
    expect(() => fromScale("noneLowMedHigh", "Medium-ish")).toThrow(RangeError);
  });

  it("rejects confidences outside the STIX integer range", () => {
    for (const bad of [-1, 101, 50.5, Number.NaN]) expect(() => toScales(bad)).toThrow(RangeError);
  });
});

describe("schema validation helper", () => {
  it("accepts the OASIS examples that are meant to be valid", () => {
    for (const file of [
      "indicator-for-malicious-url.json",
      "malware-indicator-for-file-hash.json",
      "sighting-of-an-indicator.json",
    ])
      expect(validateStix(readJson("stix2.1-cti-documentation-examples", file)), file).toEqual([]);
  });

  it("judges incident and opinion objects in a bundle by their own schemas (bundle.json does not list them)", () => {
    const base = { spec_version: "2.1", created: "2026-01-01T00:00:00.000Z", modified: "2026-01-01T00:00:00.000Z" };
    const incident = { ...base, type: "incident", id: "incident--6a1f7f0e-1b8e-4b55-9a39-5b0b1d0f2c11", name: "x" };
    const opinion = {
      ...base,
      type: "opinion",
      id: "opinion--6a1f7f0e-1b8e-4b55-9a39-5b0b1d0f2c11",
      opinion: "agree",
      object_refs: ["relationship--6a1f7f0e-1b8e-4b55-9a39-5b0b1d0f2c11"],
    };
    const bundle = (o: object) =>
      validateStix({ type: "bundle", id: "bundle--6a1f7f0e-1b8e-4b55-9a39-5b0b1d0f2c11", objects: [o] });
    expect(bundle(incident)).toEqual([]);
    expect(bundle(opinion)).toEqual([]);
    expect(bundle({ ...opinion, opinion: "meh" }).join("\n")).toMatch(/opinion/);
    expect(bundle({ ...incident, name: undefined }).join("\n")).toMatch(/name/);
    expect(bundle({ ...incident, modified: "2025-01-01T00:00:00.000Z" }).join("\n")).toMatch(/modified/);
  });

  it("is not vacuous: broken objects get errors", () => {
    const indicator = {
      type: "indicator",
      spec_version: "2.1",
      id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      created: "2024-01-01T00:00:00.000Z",
      modified: "2024-01-01T00:00:00.000Z",
      pattern: "[ipv4-addr:value = '198.51.100.1']",
      pattern_type: "stix",
      valid_from: "2024-01-01T00:00:00Z",
    };
    expect(validateStix(indicator)).toEqual([]);
    const { pattern: _pattern, ...noPattern } = indicator;
    expect(validateStix(noPattern).join("\n")).toMatch(/pattern/);
    expect(validateStix({ ...indicator, id: "indicator--not-a-uuid" }).join("\n")).toMatch(/\/id/);
    expect(validateStix({ ...indicator, created: "2024-01-01T00:00:00Z" }).join("\n")).toMatch(/\/created/);
    expect(validateStix({ ...indicator, modified: "2023-12-31T23:59:59.999Z" })).toEqual([
      "/modified modified MUST NOT be earlier than created (3.6.1)",
    ]);
    expect(validateStix({ ...indicator, valid_until: "2024-01-01T00:00:00.000Z" }).join("\n")).toMatch(/valid_until/);
    expect(validateStix({ ...indicator, confidence: 101 }).join("\n")).toMatch(/confidence/);
    expect(
      validateStix({ type: "ipv4-addr", spec_version: "2.1", id: scoId("IPV4", "1.2.3.4"), value: "1.2.3.400" }).length,
    ).toBeGreaterThan(0);
    expect(validateStix({ type: "x-unknown", id: "x-unknown--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" }).length).toBe(1);
    const bundle = {
      type: "bundle",
      id: "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      objects: [indicator, noPattern],
    };
    const errors = validateStix(bundle);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.startsWith("objects[1]"))).toBe(true);
    expect(validateStix({ ...bundle, id: "bundle--nope", objects: [indicator] }).join("\n")).toMatch(/^bundle\/id/);
  });

  it("compares timestamps to any fraction", () => {
    expect(compareTimestamps("2024-01-01T00:00:00.1Z", "2024-01-01T00:00:00.100Z")).toBe(0);
    expect(compareTimestamps("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.0001Z")).toBe(-1);
    expect(compareTimestamps("2024-01-01T00:00:01Z", "2024-01-01T00:00:00.999999Z")).toBe(1);
    expect(compareTimestamps("2024-01-01", "2024-01-01T00:00:00Z")).toBeNaN();
  });
});

describe("bundles", () => {
  const alpha = { id: "0b0e1c84-7a49-4a29-8d39-3c2d0f1d9c11", name: "CERT-Alpha", kind: "MEMBER_STATE" };
  const beta = { id: "5a7f1f6e-1f4b-4f0e-a7a4-2b2c84b9a3d2", name: "Partner Beta", kind: "PARTNER" };
  const orgs = [alpha, beta];
  const observables: [ObservableType, string][] = [
    ["IPV4", "198.51.100.1"],
    ["IPV4", "203.0.113.0/24"],
    ["IPV6", "2001:db8::1"],
    ["DOMAIN", "xn--bcher-kva.example"],
    ["URL", "http://evil.example/a%20b?x=1"],
    ["EMAIL", "phish@evil.example"],
    ["MD5", "d41d8cd98f00b204e9800998ecf8427e"],
    ["SHA1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    [
      "SHA512",
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ],
    ["STIX_PATTERN", "[process:name = 'it\\'s evil.exe']"],
  ];
  const tlps: Tlp[] = ["CLEAR", "GREEN", "AMBER"];

  async function* exportObjects(progress?: { pulled: number }) {
    for (const tlp of tlps) yield tlp2MarkingDefinition(tlp);
    for (const org of orgs) yield identityFor(org);
    let i = 0;
    for (const [type, value] of observables) {
      const sco = scoObject(type, value);
      if (sco) yield sco;
      const org = i % 2 ? beta : alpha;
      const tlp = tlps[i % tlps.length] ?? "CLEAR";
      const created = stixTimestamp(new Date(Date.UTC(2024, 0, 1 + i)));
      yield {
        type: "indicator",
        spec_version: "2.1",
        id: `indicator--${uuidv5(`${type}:${value}`, "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")}`,
        created_by_ref: identityFor(org).id,
        created,
        modified: stixTimestamp(new Date(Date.UTC(2024, 5, 1 + i))),
        indicator_types: ["malicious-activity"],
        pattern: patternFor(type, value),
        pattern_type: "stix",
        pattern_version: "2.1",
        valid_from: created,
        valid_until: "2025-01-01T00:00:00Z",
        confidence: (i * 9) % 101,
        labels: ["test"],
        object_marking_refs: [TLP2_MARKING_ID[tlp]],
      };
      i++;
      if (progress) progress.pulled = i;
    }
  }

  async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
    const out: string[] = [];
    for await (const c of chunks) out.push(c);
    return out;
  }

  it("streams a bundle of SCOs, indicators, identities and TLP 2.0 markings that validates", async () => {
    const chunks = await collect(
      stixBundle(exportObjects(), "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", { chunkSize: 0 }),
    );
    expect(chunks.length).toBeGreaterThan(10);
    const bundle = JSON.parse(chunks.join("")) as { type: string; id: string; objects: { type: string }[] };
    expect(bundle.type).toBe("bundle");
    expect(bundle.id).toBe("bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    const all: unknown[] = [];
    for await (const o of exportObjects()) all.push(o);
    expect(bundle.objects).toEqual(all);
    expect(bundle.objects.filter((o) => o.type === "indicator")).toHaveLength(observables.length);
    expect(validateStix(bundle)).toEqual([]);
  });

  it("yields before it has read all objects", async () => {
    const progress = { pulled: 0 };
    const it = stixBundle(exportObjects(progress), undefined, { chunkSize: 0 });
    const first = await it.next();
    expect(first.value).toMatch(/^\{"type":"bundle","id":"bundle--[0-9a-f-]{36}","objects":\[/);
    expect(progress.pulled).toBeLessThan(observables.length);
    await it.return(undefined);
  });

  it("joins small objects into larger chunks and omits `objects` when there are none", async () => {
    expect((await collect(stixBundle(exportObjects()))).length).toBe(1);
    const empty = JSON.parse((await collect(stixBundle([], "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))).join(""));
    expect(empty).toEqual({ type: "bundle", id: "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" });
    expect(validateStix(empty)).toEqual([]);
  });

  it("gives an organisation the same identity every time, as an organization", () => {
    const a = identityFor(alpha);
    expect(identityFor({ ...alpha })).toEqual(a);
    expect(a).toMatchObject({
      type: "identity",
      identity_class: "organization",
      name: "CERT-Alpha",
      roles: ["member-state"],
    });
    expect(a.id).not.toBe(identityFor(beta).id);
    const dated = identityFor({
      ...alpha,
      createdAt: new Date("2024-03-01T10:00:00Z"),
      updatedAt: "2024-04-01T10:00:00Z",
    });
    expect(dated).toMatchObject({
      id: a.id,
      created: "2024-03-01T10:00:00.000Z",
      modified: "2024-04-01T10:00:00.000Z",
    });
    expect(validateStix(dated)).toEqual([]);
  });
});
