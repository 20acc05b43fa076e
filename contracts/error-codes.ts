/**
 * One catalogue of the reasons the system refuses or quarantines something. Each code
 * is stored with quarantined messages, counted in metrics and documented in
 * docs/errors.md (a test keeps the two in step).
 */

export const QUARANTINE_REASONS = {
  payload_not_utf8: 'The payload is not UTF-8 text, and the channel expects JSON.',
  payload_not_json: 'The payload is not valid JSON.',
  payload_schema: 'The JSON does not have the documented shape (e.g. no "metrics" object).',
  payload_empty: 'The payload decodes to no readings at all.',
  topic_unsupported: "The topic's channel is not one the platform decodes.",
  device_unknown: 'The device is not registered (or was deleted after the message was accepted).',
  metric_unknown: 'The metric key is not in the metric catalogue.',
  value_not_number: 'The value is not a finite number.',
  value_out_of_range: "The value lies outside the metric's physical range.",
  timestamp_invalid: 'The timestamp is neither ISO 8601 nor epoch milliseconds, or is out of range.',
} as const;
export type QuarantineReason = keyof typeof QUARANTINE_REASONS;

/** Why the MQTT gateway refused a connection, a publish or a subscription. */
export const MQTT_REFUSALS = {
  bad_credentials: 'Unknown device, disabled device or wrong secret.',
  topic_not_allowed: "A publish or subscribe outside the device's own sensors/{deviceId}/ namespace.",
  packet_too_large: 'A packet larger than MQTT_MAX_PACKET_BYTES; the connection is closed.',
  queue_unavailable: 'The queue could not take the message; it was not acknowledged, so the device resends.',
} as const;
export type MqttRefusal = keyof typeof MQTT_REFUSALS;

/** The `type` of RFC 9457 problem documents the API answers with. */
export const API_PROBLEMS = {
  bad_request: 'A parameter or the body is invalid; `errors` names each one.',
  unauthorized: 'No API key, or an unknown one.',
  forbidden: "The API key's role may not use this route.",
  not_found: 'No such route or resource.',
  conflict: 'The resource exists already.',
  payload_too_large: 'The request body is larger than the API accepts.',
  unsupported_media_type: 'The body is not application/json.',
  unavailable: 'A dependency (database, Redis) is not reachable.',
  internal: 'An unexpected error; the details are in the server log under the request id.',
} as const;
export type ApiProblem = keyof typeof API_PROBLEMS;
