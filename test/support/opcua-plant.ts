import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openGatewayPki } from '../../gateways/opcua/opcua-pki.js';
import { spawnServer, type ServerProcess } from '../../runtime/child-process.js';

/**
 * PKI set-up for tests that run the gateway against the plant simulator securely, the
 * way docs/opcua.md tells an operator to do it: the gateway's certificate is created
 * first (its PKI folder, as the gateway makes it on first start) and copied into the
 * server's trusted folder; the gateway trusts the server through `security.serverCertificate`.
 * Certificates are made by node-opcua-pki with Node's crypto: no openssl binary is needed.
 */
export interface TrustedPair {
  folder: string;
  /** OPCUA_PKI_DIR for the gateway. */
  gatewayPkiDir: string;
  /** PLANT_PKI_DIR / `pkiDir` for the plant server; it already trusts the gateway. */
  plantPkiDir: string;
  /** Where the plant writes its certificate on first start: `security.serverCertificate`. */
  plantCertificateFile: string;
  remove(): Promise<void>;
}

export async function createTrustedPair(): Promise<TrustedPair> {
  const folder = await mkdtemp(path.join(tmpdir(), 'urbansense-opcua-'));
  const gatewayPkiDir = path.join(folder, 'gateway-pki');
  const plantPkiDir = path.join(folder, 'plant-pki');
  const pki = await openGatewayPki({ pkiDir: gatewayPkiDir });
  try {
    await mkdir(path.join(plantPkiDir, 'trusted', 'certs'), { recursive: true });
    await copyFile(pki.certificateFile, path.join(plantPkiDir, 'trusted', 'certs', 'urbansense-gateway.pem'));
  } finally {
    await pki.close();
  }
  return {
    folder,
    gatewayPkiDir,
    plantPkiDir,
    plantCertificateFile: path.join(plantPkiDir, 'own', 'certs', 'certificate.pem'),
    remove: () => rm(folder, { recursive: true, force: true }),
  };
}

/** node-opcua prints warnings with console.log; tests keep them (for a failure's message) instead of printing them. */
export async function quietNodeOpcua(): Promise<string[]> {
  const { routeNodeOpcuaLogs } = await import('../../gateways/opcua/node-opcua-logs.js');
  const lines: string[] = [];
  routeNodeOpcuaLogs((level, message) => {
    lines.push(`${level}: ${message}`);
    if (lines.length > 500) lines.splice(0, lines.length - 500);
  });
  return lines;
}

export interface PlantProcess {
  server: ServerProcess;
  /** When the banner said the server is ready (epoch ms). */
  readyAtMs: number;
}

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * `npm run plant` as a separate process (from source, through tsx), so a test can kill
 * it with SIGKILL or freeze it with SIGSTOP like a crashed or hung SCADA server.
 */
export async function startPlantProcess(env: Record<string, string>): Promise<PlantProcess> {
  const server = await spawnServer(process.execPath, ['--import', 'tsx', 'simulators/opcua/cli.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    exitSignal: 'SIGKILL',
  });
  const port = Number(env.PLANT_PORT);
  const deadline = Date.now() + 60_000;
  // The port accepts connections from server.start() on: probing it every 25 ms times
  // the restart more precisely than waiting for the banner through the output pipe.
  for (;;) {
    if (await accepts(port)) return { server, readyAtMs: Date.now() };
    if (server.hasExited() || Date.now() > deadline) {
      await server.stop('SIGKILL', 1000);
      throw new Error(`the plant simulator did not start:\n${await server.outputTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
