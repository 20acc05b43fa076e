import type { Domain, MetricKind } from '../../contracts/metric-catalogue.js';
import type { TimestampSource } from '../../contracts/opcua-payload.js';

/**
 * The OPC UA gateway's mapping file (OPCUA_CONFIG_FILE, docs/opcua.md), as parsed and
 * checked by parse-opcua-config.ts: which servers to connect to, how securely and as
 * whom, and which of their variables become which device's metric.
 */

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type SecurityModeName = (typeof SECURITY_MODES)[number];

/** Basic128Rsa15 and Basic256 are deprecated by OPC UA 1.04 (SHA-1) and not offered. */
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

export type OpcuaIdentity =
  | { type: 'anonymous' }
  | { type: 'username'; username: string; password: string }
  /** The password in a file (a Docker or Kubernetes secret), read at every connection. */
  | { type: 'username'; username: string; passwordFile: string }
  /** X.509 user identity: a certificate and its private key, PEM files. */
  | { type: 'certificate'; certificateFile: string; privateKeyFile: string };

export interface OpcuaDeadband {
  /** `absolute`: in the server's unit; `percent`: of the variable's EURange (Part 8 §6.2). */
  type: 'absolute' | 'percent';
  value: number;
}

export interface OpcuaNodeMapping {
  /** How the file names the node (NodeId or browse path), for messages and /readyz. */
  label: string;
  /** `ns=1;s=WaterPlant.Pump1.Flow`, `nsu=urn:…;i=1234`. */
  nodeId?: string;
  /** Relative path from the Root folder: `/Objects/1:WaterPlant/1:Pump1/1:Flow`. */
  browsePath?: string;
  device: string;
  /** Catalogue key (aliases are resolved to the key when the file is read). */
  metric: string;
  metricKind: MetricKind;
  /** The unit the server reports in; absent means the metric's canonical unit. */
  unit?: string;
  /** Subscription the node is monitored in; absent when it is polled. */
  subscription?: string;
  /** Read every this many ms instead of subscribing: for servers that cannot subscribe. */
  pollIntervalMs?: number;
  /** How often the server samples the value for the subscription. @defaultValue the subscription's publishing interval */
  samplingIntervalMs: number;
  /** Changes kept by the server between two publishes. @defaultValue 10 */
  queueSize: number;
  deadband?: OpcuaDeadband;
  timestampSource: TimestampSource;
}

export interface OpcuaSubscriptionSettings {
  /** How often the server sends the changes it collected. @defaultValue 1000 */
  publishingIntervalMs: number;
  /**
   * Publishing intervals without a change after which the server sends a keep-alive.
   * @defaultValue 3
   */
  maxKeepAliveCount: number;
}

export interface OpcuaServerConfig {
  /** Unique name, used in logs and readiness details. */
  name: string;
  endpointUrl: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  /**
   * The server's certificate (PEM or DER), trusted at every connection attempt: how an
   * operator trusts a server without copying files into the PKI by hand.
   */
  serverCertificateFile?: string;
  identity: OpcuaIdentity;
  subscriptions: ReadonlyMap<string, OpcuaSubscriptionSettings>;
  nodes: readonly OpcuaNodeMapping[];
  /** First wait after a failed attempt or a lost connection. @defaultValue 500 */
  reconnectInitialDelayMs: number;
  /** The backoff doubles up to this: the longest a restarted server waits for the gateway. @defaultValue 5000 */
  reconnectMaxDelayMs: number;
  /**
   * The watchdog reconnects when nothing (no change, keep-alive or poll answer) arrived
   * for this many of the longest publishing or polling interval × keep-alive count.
   * @defaultValue 3
   */
  watchdogKeepAlives: number;
  /** Session lifetime the gateway asks for; the server revises it. @defaultValue 60000 */
  sessionTimeoutMs: number;
  /** A connect, session or subscribe step that takes longer has failed. @defaultValue 10000 */
  requestTimeoutMs: number;
}

export interface OpcuaDeviceDeclaration {
  domain: Domain;
  name: string;
}

export interface OpcuaGatewayConfig {
  /** Devices the mapping feeds; registered at start when missing (they have no MQTT secret). */
  devices: ReadonlyMap<string, OpcuaDeviceDeclaration>;
  servers: readonly OpcuaServerConfig[];
}

export const OPCUA_DEFAULTS = {
  publishingIntervalMs: 1000,
  maxKeepAliveCount: 3,
  queueSize: 10,
  reconnectInitialDelayMs: 500,
  reconnectMaxDelayMs: 5_000,
  watchdogKeepAlives: 3,
  sessionTimeoutMs: 60_000,
  requestTimeoutMs: 10_000,
  subscription: 'default',
} as const;
