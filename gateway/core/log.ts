/**
 * Logging: JSON lines for journald, pretty on a terminal, one child logger per component
 * with its own level. Secrets are redacted by key name wherever they appear.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACTED_KEYS = ['password', 'passwd', 'secret', 'token', 'key', 'pin', 'credential', 'authorization', 'cookie'];

export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of REDACTED_KEYS) paths.push(k, `*.${k}`, `*.*.${k}`);
  return paths;
}

/** The log section of the compound file, as the core needs it (config/schema.ts satisfies it). */
export interface LogConfig {
  level: string;
  components?: Record<string, string>;
}

export interface LoggerFactory {
  root: Logger;
  /** A child logger for one component, honouring `log.components[name]`. */
  child(component: string): Logger;
}

export function createLoggerFactory(
  cfg: Partial<LogConfig> = {},
  opts: { destination?: NodeJS.WritableStream; pretty?: boolean } = {},
): LoggerFactory {
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const options = {
    level: cfg.level ?? 'info',
    redact: { paths: redactPaths(), censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const root = pretty
    ? pino({
        ...options,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
      })
    : opts.destination
      ? pino(options, opts.destination as never)
      : pino(options);
  const levels = cfg.components ?? {};
  return {
    root,
    child(component) {
      const child = root.child({ component });
      const level = levels[component];
      if (level) child.level = level as LevelWithSilent;
      return child;
    },
  };
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
