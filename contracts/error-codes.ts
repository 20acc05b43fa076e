/**
 * One catalogue of the reasons the system refuses or quarantines something. Each code
 * is stored with quarantined messages, counted in metrics and documented in
 * docs/errors.md (a test keeps the two in step).
 */

export const QUARANTINE_REASONS = {
  payload_not_utf8: 'The payload is not UTF-8 text, and the channel expects JSON.',
  payload_not_json: 'The payload is not valid JSON.',
  payload_not_protobuf: 'The payload is not a Sparkplug B protobuf message.',
  payload_schema: 'The payload does not have the documented shape (e.g. no "metrics" object, nesting too deep).',
  payload_duplicate_key: 'A JSON object in the payload has the same key twice; which value was meant cannot be known.',
  payload_empty: 'The payload decodes to no readings at all.',
  topic_unsupported: "The topic's channel or Sparkplug message type is not one the platform decodes.",
  device_unknown: 'The device is not registered (or was deleted after the message was accepted).',
  device_id_invalid: 'The Sparkplug device id does not make a valid platform id {edge}.{device} (letters, digits, ".", "_", "-"; at most 64).',
  device_conflict: "The id {edge}.{device} belongs to a registered device that is not a Sparkplug device of this edge node.",
  profile_unknown: "The device's vendor profile is not in DEVICE_PROFILES_FILE (removed or renamed since registration).",
  metric_unknown: 'The metric is not in the metric catalogue, by key or alias (or a vendor field is not mapped).',
  unit_mismatch: "The unit is not one the metric accepts (GET /api/v1/metrics lists each metric's units).",
  value_not_number: 'The value is not a finite number (or true/false for a state metric).',
  value_out_of_range: "The value lies outside the metric's physical range (a state must be 0 or 1).",
  timestamp_invalid: 'The timestamp is not ISO 8601 with an offset or epoch seconds/milliseconds, is before 2000, or is further ahead than INGEST_MAX_FUTURE_SKEW_MS.',
  reading_duplicate: 'The message holds the same metric at the same time more than once; the first is kept.',
  sparkplug_alias_unknown: 'A Sparkplug metric uses an alias that no NBIRTH/DBIRTH of its edge node or device defined.',
  sparkplug_out_of_order: "A Sparkplug message of an earlier connection arrived after the edge node's new NBIRTH; it is not applied.",
  sparkplug_seq_gap: 'Notice: Sparkplug sequence numbers were skipped, so messages of the edge node were lost; this message is stored.',
  sparkplug_stale_death: 'Notice: an NDEATH whose bdSeq does not match the current NBIRTH (an earlier connection) was ignored.',
} as const;
export type QuarantineReason = keyof typeof QUARANTINE_REASONS;

/** Why the MQTT gateway refused a connection, a publish or a subscription. */
export const MQTT_REFUSALS = {
  bad_credentials: 'Unknown device, disabled device or wrong secret.',
  topic_not_allowed: "A publish, subscribe or will outside the device's sensors/{deviceId}/ namespace or its Sparkplug edge node topics.",
  packet_too_large: 'A packet larger than MQTT_MAX_PACKET_BYTES; the connection is closed.',
  queue_unavailable: 'The queue could not take the message; it was not acknowledged, so the device resends.',
  client_id_taken: "The client id is held by another device (connected, or keeping its session); CONNACK 2 \"identifier rejected\" (docs/security.md).",
  malformed_packet: 'A packet that breaks MQTT 3.1.1 (bad protocol name or level, reserved bits, QoS 3, a packet before CONNECT or a second CONNECT, a wildcard, ill-formed UTF-8 or U+0000 in a PUBLISH topic); the connection is closed.',
  too_many_connections: 'The address already has MQTT_MAX_CONNECTIONS_PER_ADDRESS connections open; the new one is closed as it is accepted.',
  auth_backoff: 'The address failed to log in MQTT_MAX_AUTH_FAILURES_PER_MINUTE times within a minute; its CONNECTs get CONNACK 3 "server unavailable", without a password check, until the minute ends.',
  backlog_full: 'The ingest backlog stayed over MQTT_BACKLOG_HIGH_WATER while the message was held (longer than MQTT_BACKPRESSURE_MAX_HOLD_MS, or more than MQTT_BACKPRESSURE_MAX_HELD messages held); the connection is closed without PUBACK and the device resends later (docs/backpressure.md).',
  server_busy: 'A CONNECT while the broker refuses for backlog (backlog_full, until the backlog drains to half of MQTT_BACKLOG_HIGH_WATER); CONNACK 3 "server unavailable", the device retries later.',
  tls_handshake_failed: 'A connection to the mqtts or wss port did not complete TLS: plain MQTT on the TLS port, a client that does not trust the certificate, or a missing or untrusted client certificate (README, "TLS").',
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
  too_many_requests: "The API key (or, without one, the client address) sent more requests than API_RATE_LIMIT_PER_MINUTE allows; retry after the `retry-after` seconds.",
  unavailable: 'A dependency (database, Redis) is not reachable.',
  internal: 'An unexpected error; the details are in the server log under the request id.',
} as const;
export type ApiProblem = keyof typeof API_PROBLEMS;
