import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../config/config-schema.js';
import { validateRule, type AlertRule } from './alert-rule.js';

const VARIABLE = 'ALERT_RULES_FILE';

/**
 * Checks the rules of an ALERT_RULES_FILE document (a list of rules, or `{ rules: [...] }`),
 * every problem named by the rule's place in the file. Pure, for tests.
 */
export function parseRulesDocument(document: unknown, file: string, knownMetric: (key: string) => boolean): AlertRule[] {
  const list = Array.isArray(document) ? document : (document as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) throw new ConfigError([`${VARIABLE} ${file}: must be a list of rules or { rules: [...] }`]);
  const problems: string[] = [];
  const rules: AlertRule[] = [];
  const ids = new Set<string>();
  list.forEach((entry: unknown, index) => {
    const result = validateRule(entry, knownMetric);
    if (!result.ok) {
      for (const error of result.errors) problems.push(`${VARIABLE} ${file}: rules[${index}]: ${error}`);
      return;
    }
    if (ids.has(result.rule.id)) problems.push(`${VARIABLE} ${file}: rules[${index}]: id "${result.rule.id}" appears twice`);
    ids.add(result.rule.id);
    rules.push(result.rule);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return rules;
}

/** Reads and checks ALERT_RULES_FILE (JSON or YAML) at start; a mistake stops the process. */
export async function loadRulesFile(file: string, knownMetric: (key: string) => boolean): Promise<AlertRule[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${VARIABLE} ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  let document: unknown;
  try {
    document = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError([`${VARIABLE} ${file}: not valid JSON or YAML: ${(error as Error).message}`]);
  }
  return parseRulesDocument(document, file, knownMetric);
}
