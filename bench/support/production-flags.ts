import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The Node flags production runs with: those of `npm start` (package.json), which the
 * Dockerfile's CMD repeats (test/docker-compose.test.ts holds them equal). Benchmarks
 * start their processes with them, so a flag that changes the figures is one users get.
 */
export function productionNodeFlags(repoRoot: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (manifest.scripts?.start ?? '').trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json "start" must run node, not ${JSON.stringify(manifest.scripts?.start)}`);
  return words.slice(1).filter((word) => word.startsWith('--'));
}
