import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/**
 * JSON lines on stdout. No code logs a token or a header; the redact paths are a second guard.
 * They are exact paths on purpose: pino's wildcard paths cost several microseconds a line.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "incident-sharing-hub" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["authorization", "token", "headers.authorization", "req.headers.authorization"],
      censor: "[redacted]",
    },
  });
}
