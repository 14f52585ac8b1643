/** Where a value sits in the document: object keys and array indices from the root. */
export type JsonPath = readonly (string | number)[];
export type ValueKind = "object" | "array" | "scalar";
/**
 * What the walker does with a value it reaches: walk into it (containers only; events follow for
 * its members), assemble it whole into one JavaScript value, or skip it without building anything.
 */
export type Decision = "descend" | "assemble" | "skip";

export type JsonEvent =
  | { kind: "enter"; path: JsonPath; container: "object" | "array" }
  | { kind: "exit"; path: JsonPath; container: "object" | "array" }
  | { kind: "value"; path: JsonPath; value: unknown };

/**
 * One assembled value may be at most this many characters of JSON text. Parsers assemble one STIX
 * object or one MISP attribute at a time; a value this large means the document is not what the
 * parser expected, and holding it would defeat the memory bound.
 */
export const MAX_VALUE_CHARS = 64 * 1024 * 1024;
/** An object key longer than this is not a key any parser here looks for. */
const MAX_KEY_CHARS = 64 * 1024;

interface Frame {
  container: "object" | "array";
  path: JsonPath;
  key: string;
  index: number;
}

/**
 * What the walker expects next, outside any value it is delimiting: the root value, a value (after
 * `:` or `,` in an array, or first in an array, where `]` may come instead), a key (after `,`, or
 * first in an object, where `}` may come instead), a colon, `,` or the closing bracket after a
 * member, or nothing but whitespace after the root.
 */
type Phase = "root" | "value" | "firstValue" | "key" | "firstKey" | "colon" | "next" | "end";

/** A value being delimited, possibly across input chunks. */
interface Scan {
  path: JsonPath;
  kind: ValueKind;
  decision: Decision;
  /** Where the value starts in the buffer (the buffer keeps it while it is assembled). */
  start: number;
  /** How far it has been looked at. */
  at: number;
  depth: number;
  inString: boolean;
}

const QUOTE = 0x22;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** The first characters a scalar can start with: a string, a number, true, false, null. */
const startsScalar = (c: number) =>
  c === QUOTE || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e;
/** What ends a number or a literal. */
const endsBareScalar = (c: number) => isSpace(c) || c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY;

/** Joins a path for references in rejections: `response[0].Event.Attribute[3]`. */
export function pathRef(path: JsonPath): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out || "$";
}

/**
 * Streams a JSON document and reports, in document order, the containers it walks into and out
 * of and the values it assembles, as `decide` asks. Events come in batches, one per input chunk
 * (an await per event would cost more than the parsing). Memory holds the current path, the
 * value being assembled and one chunk's events, whatever the document's size. `decide` is asked
 * while the chunk is read, before that chunk's events are handed out: it must judge from the path
 * alone. Malformed or truncated JSON throws an Error naming how far the input was read.
 *
 * The walker reads the structure it descends into itself, and only delimits the values it
 * assembles or skips (brackets counted outside strings, strings found with indexOf); an assembled
 * value is then one native `JSON.parse` of its text, which also checks it. A generic streaming
 * tokenizer (stream-json, before) builds an object per token and was most of an ingest's parsing
 * time. A skipped value is delimited but not checked: nothing reads it.
 */
export async function* walkJson(
  input: AsyncIterable<Uint8Array | string>,
  decide: (path: JsonPath, kind: ValueKind) => Decision,
): AsyncGenerator<JsonEvent[]> {
  const decoder = new TextDecoder("utf-8");
  const stack: Frame[] = [];
  let phase: Phase = "root";
  let scan: Scan | null = null;
  let started = false;
  /** The text not yet consumed (and an assembled value's text from its start), and a read position. */
  let buf = "";
  let pos = 0;
  /** Characters of the input before `buf`, for error positions. */
  let dropped = 0;
  /** The next backslash at or after `pos`-ish in `buf` (-1: none), so strings are searched once. */
  let backslashAt = -2;
  let out: JsonEvent[] = [];

  const malformed = (at: number, why: string) => new Error(`malformed JSON near character ${dropped + at}: ${why}`);
  const nextBackslash = (from: number): number => {
    if (backslashAt !== -1 && backslashAt < from) backslashAt = buf.indexOf("\\", from);
    return backslashAt;
  };
  /** The index just past the closing quote of a string whose contents start at `from`, or -1. */
  const stringEnd = (from: number): number => {
    let i = from;
    for (;;) {
      const q = buf.indexOf('"', i);
      if (q < 0) return -1;
      const b = nextBackslash(i);
      if (b < 0 || b > q) return q + 1;
      i = b + 2; // the escaped character, whatever it is, is not the end
    }
  };

  const parse = (from: number, to: number): unknown => {
    try {
      return JSON.parse(buf.slice(from, to)) as unknown;
    } catch (e) {
      throw malformed(from, (e as Error).message);
    }
  };

  /**
   * Where to resume a string that the buffer ends inside, given the first backslash after a known
   * resume point: past the last complete escape pair, or at a trailing backslash (whose pair comes
   * with the next chunk).
   */
  const resumeInString = (backslash: number): number => {
    let i = backslash;
    let resume = backslash;
    while (i >= 0) {
      if (i + 1 >= buf.length) return i;
      resume = i + 2;
      i = buf.indexOf("\\", i + 2);
    }
    return resume;
  };

  /** Finishes the value being delimited if the buffer holds its end; false when it needs more input. */
  const continueScan = (s: Scan, final: boolean): boolean => {
    let end = -1;
    let i = s.at;
    const n = buf.length;
    if (s.kind === "scalar" && !s.inString && s.depth === 0) {
      // A number or a literal: it ends at a delimiter, or with the input.
      while (i < n && !endsBareScalar(buf.charCodeAt(i))) i++;
      if (i < n || final) end = i;
      else s.at = i;
    } else {
      let depth = s.depth;
      let inString = s.inString;
      while (i < n) {
        if (inString) {
          const e = stringEnd(i);
          if (e < 0) {
            const b = nextBackslash(i);
            i = b >= 0 ? resumeInString(b) : n;
            break;
          }
          inString = false;
          i = e;
          if (depth === 0) {
            end = i; // a string scalar
            break;
          }
          continue;
        }
        const c = buf.charCodeAt(i++);
        if (c === QUOTE) inString = true;
        else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
        else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) {
          end = i;
          break;
        }
      }
      s.depth = depth;
      s.inString = inString;
      s.at = i;
    }
    if (end < 0) {
      if (final) return true; // the caller reports where the input ended
      if (s.decision === "assemble" && n - s.start > MAX_VALUE_CHARS)
        throw new Error(`the JSON value at ${pathRef(s.path)} is too large (over ${MAX_VALUE_CHARS} characters)`);
      return false;
    }
    if (s.decision !== "skip") out.push({ kind: "value", path: s.path, value: parse(s.start, end) });
    scan = null;
    pos = end;
    phase = stack.length ? "next" : "end";
    return true;
  };

  const startValue = (c: number) => {
    const top = stack.at(-1);
    const path: JsonPath = !top ? [] : top.container === "object" ? [...top.path, top.key] : [...top.path, top.index++];
    const kind: ValueKind = c === OPEN_OBJECT ? "object" : c === OPEN_ARRAY ? "array" : "scalar";
    if (kind === "scalar" && !startsScalar(c)) throw malformed(pos, `unexpected character ${JSON.stringify(buf[pos])}`);
    started = true;
    const decision = decide(path, kind);
    if (kind !== "scalar" && decision === "descend") {
      const container = kind;
      stack.push({ container, path, key: "", index: 0 });
      out.push({ kind: "enter", path, container });
      pos++;
      phase = container === "object" ? "firstKey" : "firstValue";
      return;
    }
    // Containers start inside their bracket (depth 1); a string scalar inside its quotes (depth 0,
    // ending with the string); a number or literal at its first character.
    const isString = c === QUOTE;
    scan = {
      path,
      kind,
      decision,
      start: pos,
      at: pos + (kind !== "scalar" || isString ? 1 : 0),
      depth: kind === "scalar" ? 0 : 1,
      inString: isString,
    };
  };

  const closeFrame = () => {
    const frame = stack.pop();
    if (frame) out.push({ kind: "exit", path: frame.path, container: frame.container });
    pos++;
    phase = stack.length ? "next" : "end";
  };

  /** Reads as far as the buffer goes. */
  const run = (final: boolean) => {
    for (;;) {
      if (scan) {
        if (!continueScan(scan, final) || scan) return;
        continue;
      }
      while (pos < buf.length && isSpace(buf.charCodeAt(pos))) pos++;
      if (pos >= buf.length) return;
      const c = buf.charCodeAt(pos);
      const top = stack.at(-1);
      switch (phase) {
        case "end":
          throw malformed(pos, `unexpected ${JSON.stringify(buf[pos])} after the end of the document`);
        case "firstValue":
          if (c === CLOSE_ARRAY) closeFrame();
          else startValue(c);
          break;
        case "root":
        case "value":
          startValue(c);
          break;
        case "firstKey":
        case "key": {
          if (phase === "firstKey" && c === CLOSE_OBJECT) {
            closeFrame();
            break;
          }
          if (c !== QUOTE) throw malformed(pos, `expected a key, found ${JSON.stringify(buf[pos])}`);
          const end = stringEnd(pos + 1);
          if (end < 0) {
            if (buf.length - pos > MAX_KEY_CHARS) throw malformed(pos, "an object key is too long");
            return;
          }
          if (top) top.key = parse(pos, end) as string;
          pos = end;
          phase = "colon";
          break;
        }
        case "colon":
          if (c !== COLON) throw malformed(pos, `expected ':', found ${JSON.stringify(buf[pos])}`);
          pos++;
          phase = "value";
          break;
        case "next":
          if (c === COMMA) {
            pos++;
            phase = top?.container === "object" ? "key" : "value";
          } else if (c === (top?.container === "object" ? CLOSE_OBJECT : CLOSE_ARRAY)) closeFrame();
          else
            throw malformed(pos, `expected ',' or the end of the ${top?.container}, found ${JSON.stringify(buf[pos])}`);
          break;
      }
    }
  };

  /** Appends text, first dropping what is consumed (all of a skipped value but its scan position). */
  const append = (text: string) => {
    const keep = scan ? (scan.decision === "skip" ? Math.min(scan.at, buf.length) : scan.start) : pos;
    if (keep > 0) {
      if (scan) {
        scan.start -= keep;
        scan.at -= keep;
      }
      buf = buf.slice(keep);
      pos -= keep;
      dropped += keep;
    }
    buf += text;
    backslashAt = -2;
  };

  let first = true;
  for await (const chunk of input) {
    let text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    // A byte-order mark is not JSON.
    if (first && text) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (!text) continue;
    append(text);
    run(false);
    if (out.length) {
      const events = out;
      out = [];
      yield events;
    }
  }
  append(decoder.decode());
  run(true);
  if (out.length) yield out;
  if (!started) throw new Error("malformed JSON: the input is empty");
  if ((phase as Phase) !== "end" || scan)
    throw new Error(
      `malformed JSON: the input ends inside ${pathRef(stack.at(-1)?.path ?? (scan as Scan | null)?.path ?? [])}`,
    );
}
