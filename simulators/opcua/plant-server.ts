import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DataType, getStatusCodeFromCode, makeEUInformation, MessageSecurityMode, OPCUACertificateManager, OPCUAServer,
  SecurityPolicy, StatusCodes, Variant, type Namespace, type UAObject, type UAVariable,
} from 'node-opcua';
import { createPlantModel, type PlantModelOptions, type PlantPoint, type PointValue } from './plant-model.js';

/** The security modes the gateway's mapping can name, as the server offers them. */
export const PLANT_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type PlantSecurityMode = (typeof PLANT_SECURITY_MODES)[number];

export interface PlantServerOptions extends PlantModelOptions {
  /** TCP port; 0 is not supported by node-opcua, pick a free one. @defaultValue 4840 */
  port?: number;
  /** Address the server binds to and advertises in its endpoint URLs. @defaultValue '127.0.0.1' */
  host?: string;
  /** The server's PKI folder (own certificate, trusted client certificates); created on first start. */
  pkiDir: string;
  /** Username → password; the server accepts these user identities. @defaultValue none */
  users?: Readonly<Record<string, string>>;
  /** Whether anonymous sessions are allowed. @defaultValue true when no users are given */
  allowAnonymous?: boolean;
  /** @defaultValue all three */
  securityModes?: readonly PlantSecurityMode[];
  /**
   * Trust client certificates the server has never seen. Convenient for a demo; a real
   * server rejects them into `pkiDir/rejected` until an operator trusts them.
   * @defaultValue false
   */
  acceptUnknownClientCertificates?: boolean;
  /**
   * PKI folder of the X.509 user certificates the server accepts as identities (their
   * `trusted/certs/`); without it, X.509 user identities are refused.
   */
  userPkiDir?: string;
  /**
   * Most operations one Read, Browse, TranslateBrowsePaths or CreateMonitoredItems may
   * carry (the server's OperationLimits), as small PLC servers have. @defaultValue node-opcua's (1000s)
   */
  maxOperationsPerRequest?: number;
  /** How often the plant's values change. @defaultValue 1000 */
  updateIntervalMs?: number;
  /** How far each SourceTimestamp lies before the server publishes it: the instrument's sampling delay. @defaultValue 250 */
  sensorLatencyMs?: number;
}

/** One value as the server published it, for tests to compare with what was stored. */
export interface PublishedSample {
  value: PointValue | null;
  status: number;
  sourceTimeMs: number;
}

export interface PlantServerEvents {
  /** One update of every point is published. */
  updated: [atMs: number];
}

export interface PlantServer {
  readonly endpointUrl: string;
  readonly port: number;
  readonly points: readonly PlantPoint[];
  /** The server's own certificate (PEM): copy it into a client's trusted folder. */
  readonly certificateFile: string;
  /** Where client certificates go to be trusted (before the server starts; later, use trustClientCertificate). */
  readonly trustedFolder: string;
  /** Trusts a client certificate (PEM file) now, as a server administrator's "trust" button does. */
  trustClientCertificate(file: string): Promise<void>;
  readonly events: EventEmitter<PlantServerEvents>;
  /** The last samples of a point, oldest first (at most 1000). */
  published(key: string): readonly PublishedSample[];
  /**
   * From now on the point reports `status`: with no value, as a failed instrument does, or
   * with its value (`keepValue`), as an instrument out of calibration does. `undefined` heals it.
   */
  setFault(key: string, status: number | undefined, options?: { keepValue?: boolean }): void;
  close(): Promise<void>;
}

const SECURITY_MODES: Record<PlantSecurityMode, MessageSecurityMode> = {
  None: MessageSecurityMode.None, Sign: MessageSecurityMode.Sign, SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};
/** UNECE Rec. 20 common codes, so clients that read EngineeringUnits.unitId find the unit. */
const UNECE_CODES: Readonly<Record<string, string>> = {
  'm3/h': 'MQH', m: 'MTR', bar: 'BAR', NTU: 'NTU', 'mg/L': 'M1', kV: 'KVT', A: 'AMP', kW: 'KWT', '1': 'C62',
};
const HISTORY = 1000;

function folder(namespace: Namespace, parent: UAObject, name: string, cache: Map<string, UAObject>, key: string): UAObject {
  const existing = cache.get(key);
  if (existing !== undefined) return existing;
  // Part 5 §8.2.4: the Objects folder organizes its objects; below it, objects are components.
  const link = cache.size === 0 || !key.includes('.') ? { organizedBy: parent } : { componentOf: parent };
  const created = namespace.addObject({ ...link, browseName: name, nodeId: `s=${key}` });
  cache.set(key, created);
  return created;
}

function addPoint(namespace: Namespace, objects: UAObject, folders: Map<string, UAObject>, point: PlantPoint): UAVariable {
  const parts = point.key.split('.');
  let parent = objects;
  for (let depth = 1; depth < parts.length; depth += 1) parent = folder(namespace, parent, parts[depth - 1]!, folders, parts.slice(0, depth).join('.'));
  const common = { componentOf: parent, browseName: parts.at(-1)!, nodeId: `s=${point.key}`, description: point.description, minimumSamplingInterval: 100 };
  if (point.dataType === 'Boolean') return namespace.addVariable({ ...common, dataType: 'Boolean' });
  return namespace.addAnalogDataItem({
    ...common,
    dataType: 'Double',
    engineeringUnitsRange: { low: point.range?.[0] ?? 0, high: point.range?.[1] ?? 1 },
    engineeringUnits: makeEUInformation(UNECE_CODES[point.unit ?? ''] ?? '', point.unit ?? '', point.description),
  });
}

/**
 * A water plant and a substation behind a real node-opcua server: the OPC UA side of
 * the demo, the tests and the benchmarks. Values change every `updateIntervalMs`; each
 * carries a SourceTimestamp `sensorLatencyMs` older than the server's own, so a client
 * that rewrites timestamps is caught.
 */
export async function createPlantServer(options: PlantServerOptions): Promise<PlantServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4840;
  const users = options.users ?? {};
  const model = createPlantModel(options);
  const certificateManager = new OPCUACertificateManager({
    rootFolder: options.pkiDir,
    automaticallyAcceptUnknownCertificate: options.acceptUnknownClientCertificates ?? false,
  });
  await certificateManager.initialize();
  const userCertificateManager = options.userPkiDir === undefined
    ? undefined
    : new OPCUACertificateManager({ rootFolder: options.userPkiDir, automaticallyAcceptUnknownCertificate: false });
  await userCertificateManager?.initialize();
  const server = new OPCUAServer({
    port,
    host,
    hostname: host,
    serverCertificateManager: certificateManager,
    ...(userCertificateManager === undefined ? {} : { userCertificateManager }),
    allowAnonymous: options.allowAnonymous ?? Object.keys(users).length === 0,
    securityModes: (options.securityModes ?? PLANT_SECURITY_MODES).map((mode) => SECURITY_MODES[mode]),
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss],
    userManager: { isValidUser: (userName: string, password: string) => Object.hasOwn(users, userName) && users[userName] === password },
    ...(options.maxOperationsPerRequest === undefined ? {} : {
      serverCapabilities: {
        operationLimits: {
          maxNodesPerRead: options.maxOperationsPerRequest, maxNodesPerBrowse: options.maxOperationsPerRequest,
          maxNodesPerTranslateBrowsePathsToNodeIds: options.maxOperationsPerRequest, maxMonitoredItemsPerCall: options.maxOperationsPerRequest,
        },
      },
    }),
    buildInfo: { productName: 'urbansense plant simulator', manufacturerName: 'urbansense' },
    serverInfo: { applicationName: { text: 'urbansense plant simulator' }, applicationUri: `urn:urbansense:plant-simulator:${port}` },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await server.initialize();
    const addressSpace = server.engine.addressSpace!;
    const namespace = addressSpace.getOwnNamespace();
    const folders = new Map<string, UAObject>();
    const variables = new Map(model.points.map((point) => [point.key, addPoint(namespace, addressSpace.rootFolder.objects, folders, point)]));
    // A nameplate text: mapping it to a numeric metric is the "wrong type" case.
    namespace.addVariable({
      componentOf: folders.get('WaterPlant')!, browseName: 'Name', nodeId: 's=WaterPlant.Name', dataType: 'String',
      value: { dataType: DataType.String, value: 'Demo waterworks' },
    });

    const events = new EventEmitter<PlantServerEvents>();
    const history = new Map<string, PublishedSample[]>(model.points.map((point) => [point.key, []]));
    const faults = new Map<string, { status: number; keepValue: boolean }>();
    const latencyMs = options.sensorLatencyMs ?? 250;
    const update = () => {
      const atMs = Date.now();
      const sourceTimestamp = new Date(atMs - latencyMs);
      for (const [key, value] of model.step(atMs)) {
        const variable = variables.get(key)!;
        const fault = faults.get(key);
        const dataType = typeof value === 'boolean' ? DataType.Boolean : DataType.Double;
        const hasValue = fault === undefined || fault.keepValue;
        const variant = hasValue ? new Variant({ dataType, value }) : new Variant({ dataType: DataType.Null });
        variable.setValueFromSource(variant, fault === undefined ? StatusCodes.Good : getStatusCodeFromCode(fault.status), sourceTimestamp);
        const samples = history.get(key)!;
        samples.push({ value: hasValue ? value : null, status: fault?.status ?? 0, sourceTimeMs: sourceTimestamp.getTime() });
        if (samples.length > HISTORY) samples.splice(0, samples.length - HISTORY);
      }
      events.emit('updated', atMs);
    };
    update();
    await server.start();
    timer = setInterval(update, options.updateIntervalMs ?? 1000);
    timer.unref();

    let closing: Promise<void> | undefined;
    return {
      endpointUrl: server.getEndpointUrl(),
      port,
      points: model.points,
      certificateFile: path.join(options.pkiDir, 'own', 'certs', 'certificate.pem'),
      trustedFolder: certificateManager.trustedFolder,
      events,
      published: (key) => history.get(key) ?? [],
      async trustClientCertificate(file) {
        const pem = await readFile(file, 'utf8');
        const base64 = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '';
        // Moves it out of rejected/ too: node-opcua-pki refuses a certificate that is in both.
        await certificateManager.trustCertificate(Buffer.from(base64.replace(/\s+/g, ''), 'base64'));
      },
      setFault(key, status, faultOptions) {
        if (!variables.has(key)) throw new Error(`the plant has no point "${key}"`);
        if (status === undefined) faults.delete(key);
        else faults.set(key, { status, keepValue: faultOptions?.keepValue ?? false });
      },
      close() {
        closing ??= (async () => {
          clearInterval(timer);
          await Promise.allSettled([server.shutdown(0)]);
          await certificateManager.dispose();
          await userCertificateManager?.dispose();
        })();
        return closing;
      },
    };
  } catch (error) {
    clearInterval(timer);
    await server.shutdown(0).catch(() => {});
    await certificateManager.dispose().catch(() => {});
    await userCertificateManager?.dispose().catch(() => {});
    throw error;
  }
}
