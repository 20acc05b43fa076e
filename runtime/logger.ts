import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config-schema.js';

/** JSON logs on stdout; secrets are redacted wherever a logged object carries them. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'urbansense' },
    redact: {
      paths: ['req.headers.authorization', '*.password', '*.secret', '*.key', 'password', 'secret'],
      censor: '[redacted]',
    },
  });
}
