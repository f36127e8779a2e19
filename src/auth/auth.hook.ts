import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorBody, sendError } from '../common/http-error.filter';
import { ApiKeyAuthenticator, presentedKey, Principal } from './api-key.authenticator';

/** Routes anyone may call: load balancers and orchestrators probe /health without a key. */
const PUBLIC_ROUTES = new Set(['/health']);

const principals = new WeakMap<FastifyRequest, Principal>();

export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

/**
 * Authentication as a Fastify `onRequest` hook: it runs before a body is read or parsed, so an
 * unauthenticated caller cannot make the server buffer a large JSON body or stream an upload,
 * and it covers every route, the OpenAPI pages and unknown paths alike.
 */
export function registerAuthHook(fastify: FastifyInstance, authenticator: ApiKeyAuthenticator, onFailure: (reason: string) => void): void {
  if (!authenticator.enabled) return;
  fastify.addHook('onRequest', async (request, reply) => {
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    const result = authenticator.authenticate(presentedKey(request.headers));
    if (result.ok) {
      principals.set(request, result.principal);
      return;
    }
    onFailure(result.reason);
    const body: ErrorBody =
      result.reason === 'missing'
        ? { code: 'UNAUTHENTICATED', message: 'an API key is required: send Authorization: Bearer KEY (or X-API-Key: KEY)' }
        : { code: 'UNAUTHENTICATED', message: 'the API key is not valid' };
    sendError(reply.header('www-authenticate', 'Bearer realm="featurelake"'), request.url, 401, body);
    return reply;
  });
}
