import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/**
 * JSON lines on stdout. No code logs a token or a header; the redact paths are a second guard.
 * They are exact paths on purpose: pino's wildcard paths cost several microseconds a line.
 *
 * Lines are written asynchronously, several at a time: pino's own destination collects them until
 * it holds 4 KiB or 100 ms have passed (one write per batch instead of one per request line, which
 * cost a few percent of a point lookup's CPU). Nothing is lost on a normal shutdown: `dispose()`
 * waits for `flushLogger`, and pino writes whatever is left synchronously when the process exits.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: "incident-sharing-hub" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["authorization", "token", "headers.authorization", "req.headers.authorization"],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 }),
  );
}

/**
 * Resolves once every line logged so far has been written out (a write under way included), or
 * after `timeoutMs` if the output does not take them (pino still tries again at exit).
 */
export function flushLogger(log: Logger, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    // The callback's error, if any, is fsync's on a pipe or terminal (which cannot be synced) or
    // the output's own: either way nothing more can be done here.
    log.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
