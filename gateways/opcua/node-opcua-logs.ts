import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';

export type NodeOpcuaLogLevel = 'warn' | 'error';

/** Escape sequences (ESC [ … m) node-opcua colours its console output with. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * node-opcua prints its warnings and errors with console.log, process-wide. A process
 * entry calls this once to send them where its other logs go instead (pino, stderr),
 * so they neither interleave with JSON log lines nor get lost.
 */
export function routeNodeOpcuaLogs(sink: (level: NodeOpcuaLogLevel, message: string) => void): void {
  const route = (level: NodeOpcuaLogLevel) => (_context: unknown, ...args: unknown[]) => {
    sink(level, format(...args).replace(ANSI, '').trim());
  };
  setWarningLogger(route('warn'));
  setErrorLogger(route('error'));
}
