import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PROBLEMS, type ApiProblem } from '../../contracts/error-codes.js';

/** One field-level complaint in a 400 answer. */
export interface ParameterError {
  /** Where the parameter was: query, path or body. */
  in: 'query' | 'path' | 'body' | 'header';
  name: string;
  message: string;
}

/** An error a route throws to answer with an RFC 9457 problem document. */
export class ProblemError extends Error {
  constructor(
    readonly problem: ApiProblem,
    readonly status: number,
    message: string,
    readonly errors?: ParameterError[],
  ) {
    super(message);
    this.name = 'ProblemError';
  }
}

export function badParameter(where: ParameterError['in'], name: string, message: string): ProblemError {
  return new ProblemError('bad_request', 400, `${name}: ${message}`, [{ in: where, name, message }]);
}

const TITLES: Record<ApiProblem, string> = {
  bad_request: 'Bad request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  too_many_requests: 'Too many requests',
  unavailable: 'Service unavailable',
  internal: 'Internal server error',
};

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: ApiProblem,
  status: number,
  detail: string,
  errors?: ParameterError[],
): FastifyReply {
  if (problem === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="urbansense"');
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `/problems/${problem}`,
      title: TITLES[problem],
      status,
      detail,
      instance: request.url.split('?')[0],
      requestId: request.id,
      ...(errors === undefined ? {} : { errors }),
    });
}

const VALIDATION_PLACES: Record<string, ParameterError['in']> = {
  querystring: 'query',
  params: 'path',
  body: 'body',
  headers: 'header',
};

function validationErrors(error: FastifyError): ParameterError[] {
  const where = VALIDATION_PLACES[error.validationContext ?? 'body'] ?? 'body';
  return (error.validation ?? []).map((issue) => {
    const params = issue.params as Record<string, unknown>;
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const name = typeof params.missingProperty === 'string'
      ? [path, params.missingProperty].filter(Boolean).join('.')
      : typeof params.additionalProperty === 'string'
        ? [path, params.additionalProperty].filter(Boolean).join('.')
        : path || '(root)';
    const message = typeof params.additionalProperty === 'string' ? 'is not a known field' : (issue.message ?? 'is invalid');
    return { in: where, name, message };
  });
}

function problemForStatus(status: number): ApiProblem {
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 409) return 'conflict';
  if (status === 429) return 'too_many_requests';
  if (status === 503) return 'unavailable';
  return status >= 500 ? 'internal' : 'bad_request';
}

/** Every error leaves as problem+json; a 5xx says only that it happened and where to look. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) {
      return sendProblem(request, reply, error.problem, error.status, error.message, error.errors);
    }
    if (error.validation !== undefined) {
      const errors = validationErrors(error);
      const summary = errors.map((issue) => `${issue.name} ${issue.message}`).join('; ');
      return sendProblem(request, reply, 'bad_request', 400, summary, errors);
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return sendProblem(request, reply, 'internal', 500, `unexpected error; the server log has the details under request id ${request.id}`);
    }
    return sendProblem(request, reply, problemForStatus(status), status, error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 'not_found', 404, `no route ${request.method} ${request.url.split('?')[0]}`),
  );
  app.get('/problems/:code', { schema: { params: { type: 'object', properties: { code: { type: 'string' } } } } }, async (request, reply) => {
    const { code } = request.params as { code: string };
    if (!Object.hasOwn(API_PROBLEMS, code)) throw new ProblemError('not_found', 404, `no problem type "${code}"`);
    return reply.type('text/plain; charset=utf-8').send(`${code}: ${API_PROBLEMS[code as ApiProblem]}\n`);
  });
}
