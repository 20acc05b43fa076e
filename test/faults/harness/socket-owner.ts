import { readdir, readFile, readlink } from 'node:fs/promises';

/** Inodes of the sockets process `pid` holds open (Linux /proc). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  return inodes;
}

/**
 * Which of `pids` holds the TCP connection whose local port is `localPort`: joins
 * /proc/net/tcp (port → socket inode) with each process's open file descriptors.
 * Lets a test kill exactly the process behind a PostgreSQL session it watches.
 */
export async function processOwningLocalPort(localPort: number, pids: readonly number[]): Promise<number | undefined> {
  const inodesOfPort = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
      if (port === localPort && fields[9] !== undefined) inodesOfPort.add(fields[9]);
    }
  }
  for (const pid of pids) {
    const held = await socketInodes(pid);
    if ([...inodesOfPort].some((inode) => held.has(inode))) return pid;
  }
  return undefined;
}
