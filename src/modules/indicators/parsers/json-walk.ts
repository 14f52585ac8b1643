import Assembler from "stream-json/core/assembler.js";
import { jsonParser, type Token } from "stream-json/core/parser.js";

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
 * One assembled value may hold at most this many tokens (a token is a key, a scalar or a bracket).
 * Parsers assemble one STIX object or one MISP attribute at a time; a value this large means the
 * document is not what the parser expected, and assembling it would defeat the memory bound.
 */
export const MAX_VALUE_TOKENS = 1_000_000;

interface Frame {
  container: "object" | "array";
  path: JsonPath;
  key: string;
  index: number;
}

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
 * while the chunk is tokenised, before that chunk's events are handed out: it must judge from the
 * path alone. Malformed or truncated JSON throws an Error naming how far the input was read.
 *
 * Built on stream-json's stream-agnostic core (the synchronous tokenizer and the Assembler).
 */
export async function* walkJson(
  input: AsyncIterable<Uint8Array | string>,
  decide: (path: JsonPath, kind: ValueKind) => Decision,
): AsyncGenerator<JsonEvent[]> {
  const tokenize = jsonParser({ streamValues: false });
  const decoder = new TextDecoder("utf-8");
  const stack: Frame[] = [];
  let started = false;
  let rootDone = false;
  let skipDepth = 0;
  let asm: Assembler | null = null;
  let asmPath: JsonPath = [];
  let asmTokens = 0;
  let consumed = 0;
  let out: JsonEvent[] = [];

  const scalar = (t: Token): unknown => {
    switch (t.name) {
      case "stringValue":
        return t.value;
      case "numberValue":
        return Number(t.value);
      case "trueValue":
        return true;
      case "falseValue":
        return false;
      default:
        return null;
    }
  };

  const onToken = (t: Token): void => {
    if (skipDepth > 0) {
      if (t.name === "startObject" || t.name === "startArray") skipDepth++;
      else if (t.name === "endObject" || t.name === "endArray") skipDepth--;
      if (skipDepth === 0 && stack.length === 0) rootDone = true;
      return;
    }
    if (asm) {
      asm.consume(t);
      if (++asmTokens > MAX_VALUE_TOKENS)
        throw new Error(`the JSON value at ${pathRef(asmPath)} is too large (over ${MAX_VALUE_TOKENS} tokens)`);
      if (asm.done) {
        out.push({ kind: "value", path: asmPath, value: asm.current });
        asm = null;
        if (stack.length === 0) rootDone = true;
      }
      return;
    }
    const top = stack.at(-1);
    if (t.name === "keyValue") {
      if (top) top.key = t.value;
      return;
    }
    if (t.name === "endObject" || t.name === "endArray") {
      const frame = stack.pop();
      if (frame) out.push({ kind: "exit", path: frame.path, container: frame.container });
      if (stack.length === 0) rootDone = true;
      return;
    }
    started = true;
    const path: JsonPath = !top ? [] : top.container === "object" ? [...top.path, top.key] : [...top.path, top.index++];
    const kind: ValueKind = t.name === "startObject" ? "object" : t.name === "startArray" ? "array" : "scalar";
    const decision = decide(path, kind);
    if (kind === "scalar") {
      if (decision !== "skip") out.push({ kind: "value", path, value: scalar(t) });
      if (!top) rootDone = true;
      return;
    }
    const container = kind === "object" ? "object" : "array";
    if (decision === "descend") {
      stack.push({ container, path, key: "", index: 0 });
      out.push({ kind: "enter", path, container });
    } else if (decision === "assemble") {
      asm = new Assembler();
      asm.consume(t);
      asmPath = path;
      asmTokens = 1;
    } else {
      skipDepth = 1;
    }
  };

  const feed = (text: string): void => {
    if (!text) return;
    let result;
    try {
      result = tokenize(text);
    } catch (e) {
      throw new Error(`malformed JSON near character ${consumed}: ${(e as Error).message}`);
    }
    consumed += text.length;
    if (typeof result !== "symbol") for (const t of result.values) onToken(t);
  };

  let first = true;
  for await (const chunk of input) {
    let text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    // A byte-order mark is not JSON; the tokenizer would reject it.
    if (first && text) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    feed(text);
    if (out.length) {
      const events = out;
      out = [];
      yield events;
    }
  }
  feed(decoder.decode());
  // A trailing newline ends a top-level number; the tokenizer waits for more input otherwise.
  feed("\n");
  if (out.length) yield out;
  if (!started) throw new Error("malformed JSON: the input is empty");
  if (!rootDone) throw new Error(`malformed JSON: the input ends inside ${pathRef(stack.at(-1)?.path ?? asmPath)}`);
}
