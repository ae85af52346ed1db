// pino JSON logging with key material redacted; one child logger per reconcile.
import pino, { type Logger, type LevelWithSilent } from 'pino';
import { LOG_REDACT_PATHS, REDACTED, redactSecrets, redactText } from './redact';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLogLevel(value: string): value is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Defaults to stdout; tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: LOG_REDACT_PATHS, censor: REDACTED },
      // The deep walk catches secrets at any depth in free-form objects that the paths miss.
      formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
      serializers: { err: (error: unknown) => redactSecrets(error) },
      // The message and its format arguments are strings the walk never sees.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination(1),
  );
  // pino skips formatters for child bindings; children inherit this `child` from the root.
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactSecrets(bindings) as typeof bindings, childOptions);
  } as typeof child;
  return logger;
}

/** A logger that drops everything; the default when callers pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
