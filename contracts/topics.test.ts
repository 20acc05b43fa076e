import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSparkplugTopic } from './sparkplug-topic.js';
import { isValidDeviceId, parseSensorsTopic } from './topics.js';

/** The topic rule as the docs state it, by levels: `sensors/{deviceId}/{channel…}`. */
function byLevels(topic: string) {
  const parts = topic.split('/');
  if (parts.length < 3 || parts[0] !== 'sensors' || !isValidDeviceId(parts[1] ?? '')) return undefined;
  return { deviceId: parts[1], channel: parts.slice(2).join('/') };
}

const level = fc.constantFrom('sensors', 'spBv1.0', 'dev-1', 'a.b', 'telemetry', 'status', '', '+', '#', 'x y', 'NDATA', 'DDATA');
const topics = fc.oneof(fc.array(level, { minLength: 0, maxLength: 6 }).map((levels) => levels.join('/')), fc.string({ maxLength: 40 }));

describe('topic parsing', () => {
  it('reads sensors topics by their levels', () => {
    expect(parseSensorsTopic('sensors/dev-1/telemetry')).toEqual({ deviceId: 'dev-1', channel: 'telemetry' });
    expect(parseSensorsTopic('sensors/dev-1/a/b')).toEqual({ deviceId: 'dev-1', channel: 'a/b' });
    expect(parseSensorsTopic('sensors/dev-1/')).toEqual({ deviceId: 'dev-1', channel: '' });
    expect(parseSensorsTopic('sensors/dev-1')).toBeUndefined();
    expect(parseSensorsTopic('sensors//telemetry')).toBeUndefined();
    expect(parseSensorsTopic('sensorsx/dev-1/telemetry')).toBeUndefined();
  });

  it('agrees with the level-by-level rule on any topic', () => {
    fc.assert(fc.property(topics, (topic) => {
      expect(parseSensorsTopic(topic)).toEqual(byLevels(topic));
    }), { numRuns: 2000 });
  });

  it('refuses non-Sparkplug topics and reads Sparkplug ones', () => {
    expect(parseSparkplugTopic('sensors/dev-1/telemetry')).toBeUndefined();
    expect(parseSparkplugTopic('spBv1.0x/g/NDATA/edge')).toBeUndefined();
    expect(parseSparkplugTopic('spBv1.0/g/DDATA/edge/pump')).toEqual({ groupId: 'g', messageType: 'DDATA', edgeNodeId: 'edge', deviceId: 'pump' });
    expect(parseSparkplugTopic('spBv1.0/g/NDATA/edge')).toEqual({ groupId: 'g', messageType: 'NDATA', edgeNodeId: 'edge', deviceId: undefined });
  });
});
