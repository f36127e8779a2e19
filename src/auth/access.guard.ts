import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError } from '../common/errors';
import { Role, roleAllows } from '../core/access';
import { ACCESS_METADATA } from './access.decorator';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import { principalOf } from './auth.hook';

/**
 * Authorization: the request hook has already turned away callers without a valid key (401, before
 * any body is read); this guard checks the caller's role against the route's `@Access` role. A
 * route that declares none needs admin, so a forgotten decorator fails closed.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.authenticator.enabled) return true;
    const needs = this.reflector.getAllAndOverride<Role | 'public' | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (needs === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = principalOf(request);
    if (!principal) throw new UnauthenticatedError('an API key is required: send Authorization: Bearer KEY');
    if (!roleAllows(principal.role, needs)) {
      throw new ForbiddenError(`key ${JSON.stringify(principal.name)} has role ${principal.role}; ${request.method} ${request.routeOptions.url} needs ${needs}`, {
        role: principal.role,
        required: needs,
      });
    }
    return true;
  }
}
