#!/usr/bin/env node
import { formatBanner } from './banner.js';
import { runProcess } from './run-process.js';
import { startStack } from './stack.js';

/** `npm start`: the stack, with the roles from ROLES (all by default). */
await runProcess(async ({ config, logger }) => {
  const stack = await startStack(config, logger);
  process.stdout.write(`${formatBanner(stack)}\n`);
  if (config.tlsCertFile !== undefined) {
    // Issue 8: `kill -HUP <pid>` after renewing the certificate; devices stay connected.
    // Only with TLS: otherwise SIGHUP keeps its default, ending the process with its terminal.
    process.on('SIGHUP', () => {
      stack.renewTls().catch((error: unknown) => logger.error({ component: 'tls', err: error }, 'TLS files not renewed; the listeners keep the previous certificate'));
    });
  }
  return stack;
});
