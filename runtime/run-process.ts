import type { Logger } from 'pino';
import { ConfigError, parseConfig, type Config } from '../config/config-schema.js';
import { createLogger } from './logger.js';

export interface ProcessContext {
  config: Readonly<Config>;
  logger: Logger;
}

/**
 * The shared life of an entry point: parse the configuration (a bad value stops here,
 * naming the variable), run, and on SIGINT/SIGTERM close cleanly and exit 0. A second
 * signal while closing exits at once.
 */
export async function runProcess(start: (context: ProcessContext) => Promise<{ close(): Promise<void> }>): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  let running: { close(): Promise<void> } | undefined;
  let stopping = false;

  async function stop(code: number): Promise<void> {
    if (stopping) {
      process.stderr.write('stopping now, without waiting\n');
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down');
    try {
      await running?.close();
      logger.info('stopped cleanly');
    } catch (error) {
      logger.error({ err: error }, 'shutdown incomplete');
      code = code || 1;
    }
    process.exit(code);
  }

  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('unhandledRejection', (error) => {
    logger.fatal({ err: error }, 'unhandled rejection');
    void stop(1);
  });
  try {
    running = await start({ config, logger });
  } catch (error) {
    const message = (error as Error).message;
    logger.fatal({ err: error }, 'start-up failed');
    process.stderr.write(`start-up failed: ${message}\n`);
    process.exit(1);
  }
}
