/** Small HTTP helpers for tests: what any API user would do with fetch. */

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  contentType: string;
  body: T;
}

export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  route: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: (text === '' ? {} : JSON.parse(text)) as T,
  };
}

export interface RegisteredDevice {
  id: string;
  username: string;
  password: string;
  topic: string;
}

export async function registerDevice(
  baseUrl: string,
  adminKey: string,
  device: { id: string; domain: string; name?: string; profile?: string },
): Promise<RegisteredDevice> {
  const answer = await api<RegisteredDevice>(baseUrl, 'POST', '/api/v1/devices', {
    key: adminKey,
    body: { name: `test device ${device.id}`, ...device },
  });
  if (answer.status !== 201) throw new Error(`registering ${device.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Polls until `probe` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
