import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/** JSON lines on stdout. Tokens never reach a log line: the redact paths are a second guard. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "incident-sharing-hub" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["authorization", "*.authorization", "token", "*.token", "headers.authorization"],
      censor: "[redacted]",
    },
  });
}
