import type { ObservableType } from "../normalize";

export interface PatternValue {
  type: ObservableType;
  value: string;
}

type Token =
  | { t: "[" | "]" | "(" | ")" }
  | { t: "string"; v: string }
  | { t: "path"; v: string }
  | { t: "op"; v: string }
  | { t: "word"; v: string };

const SIMPLE_PATHS: ReadonlyMap<string, ObservableType> = new Map(
  Object.entries({
    "ipv4-addr:value": "IPV4",
    "ipv6-addr:value": "IPV6",
    "domain-name:value": "DOMAIN",
    "url:value": "URL",
    "email-addr:value": "EMAIL",
  } as const),
);

/** Hash names after `file:hashes.`, compared upper-case without quotes and hyphens. */
const HASHES: ReadonlyMap<string, ObservableType> = new Map(
  Object.entries({
    MD5: "MD5",
    SHA1: "SHA1",
    SHA256: "SHA256",
    SHA512: "SHA512",
  } as const),
);

const PATH_COMPONENT = String.raw`(?:[A-Za-z0-9_-]+|'(?:[^'\\]|\\.)*')`;
const PATH = new RegExp(String.raw`[a-z0-9][a-z0-9-]*:${PATH_COMPONENT}(?:\.${PATH_COMPONENT}|\[(?:\*|\d+)\])*`, "y");
const OPERATOR = /!=|<=|>=|=|<|>/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?\d+(?:\.\d+)?/y;

/** Reads a STIX string literal at `i` (the opening quote): only \' and \\ are escapes. */
function readString(s: string, i: number): { value: string; end: number } | null {
  let value = "";
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === "'") return { value, end: j + 1 };
    if (c === "\\") {
      const next = s[j + 1];
      if (next !== "'" && next !== "\\") return null;
      value += next;
      j++;
    } else {
      value += c;
    }
  }
  return null;
}

function sticky(re: RegExp, s: string, i: number): string | null {
  re.lastIndex = i;
  const m = re.exec(s);
  return m ? m[0] : null;
}

function isWord(tok: Token | undefined, w: string): boolean {
  return tok?.t === "word" && tok.v.toUpperCase() === w;
}

function tokenize(s: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i);
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "[" || c === "]" || c === "(" || c === ")") {
      tokens.push({ t: c });
      i++;
      continue;
    }
    if (c === "'") {
      const str = readString(s, i);
      if (!str) return null;
      tokens.push({ t: "string", v: str.value });
      i = str.end;
      continue;
    }
    let m = sticky(PATH, s, i);
    if (m) {
      tokens.push({ t: "path", v: m });
      i += m.length;
      continue;
    }
    m = sticky(OPERATOR, s, i);
    if (m) {
      tokens.push({ t: "op", v: m });
      i += m.length;
      continue;
    }
    m = sticky(WORD, s, i) ?? sticky(NUMBER, s, i);
    if (m) {
      // Keywords (AND, OR, LIKE, WITHIN, ...), qualifier numbers and typed literals (t'...', h'...').
      tokens.push({ t: "word", v: m });
      i += m.length;
      continue;
    }
    return null;
  }
  return tokens;
}

function pathType(path: string): ObservableType | undefined {
  const simple = SIMPLE_PATHS.get(path);
  if (simple) return simple;
  const hash = /^file:hashes\.(.+)$/.exec(path)?.[1];
  if (!hash) return undefined;
  return HASHES.get(
    hash
      .replace(/^'(.*)'$/, "$1")
      .replace(/-/g, "")
      .toUpperCase(),
  );
}

/** Brackets and parentheses must nest; parentheses may not cross an observation's brackets. */
function balanced(tokens: Token[]): boolean {
  const open: string[] = [];
  for (const tok of tokens) {
    if (tok.t === "[" || tok.t === "(") open.push(tok.t);
    else if (tok.t === "]" && open.pop() !== "[") return false;
    else if (tok.t === ")" && open.pop() !== "(") return false;
  }
  return open.length === 0;
}

/**
 * Recognises the patterns the hub stores as plain observables: one comparison, or comparisons
 * joined by OR inside one observation (`[a = 'x' OR b = 'y']`) or across observations
 * (`[a = 'x'] OR [b = 'y']`), each `=` against a string on ipv4-addr, ipv6-addr, domain-name,
 * url or email-addr `:value`, or on `file:hashes.` MD5 / SHA-1 / SHA-256 / SHA-512 (any case,
 * quoted or not). Parentheses are allowed since only ORs join. Returns the values (string escapes
 * undone, duplicates dropped), or null for any other pattern (AND, FOLLOWEDBY, other operators or
 * objects, qualifiers such as WITHIN or START, syntax the recogniser does not know), which the
 * caller keeps whole as a STIX_PATTERN.
 */
export function simplePatternValues(pattern: string): PatternValue[] | null {
  const all = tokenize(pattern);
  if (!all || !balanced(all)) return null;
  const tokens = all.filter((tok) => tok.t !== "(" && tok.t !== ")");
  const values: PatternValue[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (;;) {
    if (tokens[i++]?.t !== "[") return null;
    for (;;) {
      const path = tokens[i];
      const op = tokens[i + 1];
      const literal = tokens[i + 2];
      if (path?.t !== "path" || op?.t !== "op" || op.v !== "=" || literal?.t !== "string") return null;
      const type = pathType(path.v);
      if (!type) return null;
      const key = `${type}\u0000${literal.v}`;
      if (!seen.has(key)) {
        seen.add(key);
        values.push({ type, value: literal.v });
      }
      i += 3;
      if (isWord(tokens[i], "OR")) {
        i++;
        continue;
      }
      if (tokens[i]?.t !== "]") return null;
      i++;
      break;
    }
    if (i === tokens.length) return values;
    if (!isWord(tokens[i], "OR")) return null;
    i++;
  }
}
