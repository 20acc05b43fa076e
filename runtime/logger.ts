import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config-schema.js';

/** JSON logs on stdout (or `destination`); secrets are redacted wherever a logged object carries them. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'urbansense' },
    redact: {
      paths: ['req.headers.authorization', '*.password', '*.secret', '*.key', 'password', 'secret'],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
