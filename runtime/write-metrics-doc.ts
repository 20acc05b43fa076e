/** `npm run docs:metrics`: rewrites the generated catalogue table of docs/metrics.md. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILTIN_CATALOGUE } from '../contracts/metric-catalogue.js';
import { withMetricTable } from '../contracts/metric-table.js';

const file = path.resolve(import.meta.dirname, '..', 'docs', 'metrics.md');
await writeFile(file, withMetricTable(await readFile(file, 'utf8'), BUILTIN_CATALOGUE));
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
