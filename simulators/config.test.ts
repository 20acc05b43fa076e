import { describe, expect, it } from 'vitest';
import { parseSimulatorConfig } from './cli.js';

describe('parseSimulatorConfig', () => {
  it('needs only API_KEY and fills in the documented defaults', () => {
    expect(parseSimulatorConfig({ API_KEY: 'k' })).toEqual({
      apiUrl: 'http://127.0.0.1:3000',
      mqttUrl: 'mqtt://127.0.0.1:1883',
      adminKey: 'k',
      devices: 20,
      intervalMs: 1000,
      idPrefix: 'sim',
      seed: 1,
      qos: 1,
      credentialsFile: 'data/simulator-credentials.json',
      unknownVariables: [],
    });
  });

  it('reads every variable and returns a frozen config', () => {
    const config = parseSimulatorConfig({
      API_KEY: ' key ',
      API_URL: 'https://api.example:8443',
      MQTT_URL: 'mqtts://broker.example:8883',
      SIM_DEVICES: '400',
      SIM_INTERVAL_MS: '250',
      SIM_ID_PREFIX: 'load.test_1',
      SIM_SEED: 'binhai',
      SIM_QOS: '0',
      SIM_CREDENTIALS_FILE: '/tmp/creds.json',
    });
    expect(config).toMatchObject({
      adminKey: 'key', apiUrl: 'https://api.example:8443', mqttUrl: 'mqtts://broker.example:8883', devices: 400,
      intervalMs: 250, idPrefix: 'load.test_1', seed: 'binhai', qos: 0, credentialsFile: '/tmp/creds.json',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(parseSimulatorConfig({ API_KEY: 'k', SIM_SEED: '-12' }).seed).toBe(-12);
  });

  it('explains a missing API_KEY', () => {
    expect(() => parseSimulatorConfig({})).toThrow(/API_KEY: required; set it to an admin API key/);
    expect(() => parseSimulatorConfig({ API_KEY: '   ' })).toThrow(/API_KEY: required/);
  });

  it('names every invalid variable at once', () => {
    let message = '';
    try {
      parseSimulatorConfig({
        API_URL: 'localhost:3000',
        MQTT_URL: 'http://127.0.0.1:1883',
        SIM_DEVICES: '20 devices',
        SIM_INTERVAL_MS: '5',
        SIM_ID_PREFIX: 'has/slash',
        SIM_QOS: '3',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n').map((line) => line.trim().split(':')[0])).toEqual([
      'invalid simulator configuration', 'API_URL', 'MQTT_URL', 'API_KEY', 'SIM_DEVICES', 'SIM_INTERVAL_MS', 'SIM_QOS', 'SIM_ID_PREFIX',
    ]);
    expect(message).toContain('SIM_DEVICES: must be a whole number from 1 to 39996, got "20 devices"');
    expect(message).toContain('SIM_INTERVAL_MS: must be a whole number from 10 to 86400000, got "5"');
    expect(message).toContain('MQTT_URL: "http://127.0.0.1:1883" must use mqtt: or mqtts: or ws: or wss:');
  });

  it('lists SIM_* variables it does not know, which are likely typos', () => {
    expect(parseSimulatorConfig({ API_KEY: 'k', SIM_DEVICE: '5', SIM_SEED: '2' }).unknownVariables).toEqual(['SIM_DEVICE']);
  });
});
