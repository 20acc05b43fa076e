import { request } from 'node:https';
import type { ApiAnswer } from './api-client.js';

export interface HttpsTrust {
  /** CA certificates to verify the server with; `undefined`: only Node's built-in roots. */
  ca: Buffer | undefined;
}

/**
 * `api()` (api-client.ts) for an HTTPS server: node:https, since the global fetch cannot
 * be given a CA of its own without undici's Agent, which is not a dependency here.
 */
export function httpsApi(trust: HttpsTrust) {
  return function call<T = Record<string, unknown>>(
    baseUrl: string,
    method: string,
    route: string,
    options: { key?: string; body?: unknown } = {},
  ): Promise<ApiAnswer<T>> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const outgoing = request(`${baseUrl}${route}`, { method, headers, ...(trust.ca === undefined ? {} : { ca: trust.ca }) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            body: (text === '' ? {} : JSON.parse(text)) as T,
          });
        });
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };
}
