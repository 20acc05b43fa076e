import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config-schema.js';
import { advertisedMqttPorts, apiHttps, mqttTlsListeners } from './tls-setup.js';

const TLS = { TLS_CERT_FILE: '/etc/urbansense/tls/fullchain.pem', TLS_KEY_FILE: '/etc/urbansense/tls/privkey.pem' };
const FILES = { cert: Buffer.from('cert'), key: Buffer.from('key'), clientCa: undefined, certificate: undefined as never };

describe('the ports an api-only process tells registered devices', () => {
  it('names no TLS port without a certificate', () => {
    expect(advertisedMqttPorts(parseConfig({ ROLES: 'api' }), undefined)).toEqual({ port: 1883, wsPort: 8083, tlsPort: undefined, wssPort: undefined });
  });

  it('names the TLS ports the broker reads from the same variables, and none that are off', () => {
    expect(advertisedMqttPorts(parseConfig({ ROLES: 'api', ...TLS }), undefined)).toEqual({ port: 1883, wsPort: 8083, tlsPort: 8883, wssPort: 8084 });
    expect(advertisedMqttPorts(parseConfig({ ROLES: 'api', ...TLS, MQTT_PORT: 'off', MQTT_WS_PORT: '0', MQTT_WSS_PORT: '0' }), undefined)).toEqual({
      port: undefined, wsPort: undefined, tlsPort: 8883, wssPort: undefined,
    });
  });
});

describe('which listeners get the certificate', () => {
  it('gives the broker mqtts and wss unless their port is 0, and the API HTTPS unless API_TLS is off', () => {
    expect(mqttTlsListeners(parseConfig(TLS), undefined)).toBeUndefined();
    expect(mqttTlsListeners(parseConfig({ ...TLS, MQTT_WSS_PORT: '0' }), FILES)).toMatchObject({ port: 8883, wsPort: undefined });
    expect(apiHttps(parseConfig(TLS), FILES)).toEqual({ cert: FILES.cert, key: FILES.key });
    expect(apiHttps(parseConfig({ ...TLS, API_TLS: 'off' }), FILES)).toBeUndefined();
  });
});
