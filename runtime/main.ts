#!/usr/bin/env node
import { formatBanner } from './banner.js';
import { runProcess } from './run-process.js';
import { startStack } from './stack.js';

/** `npm start`: the stack, with the roles from ROLES (all by default). */
await runProcess(async ({ config, logger }) => {
  const stack = await startStack(config, logger);
  process.stdout.write(`${formatBanner(stack)}\n`);
  return stack;
});
