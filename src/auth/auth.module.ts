import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { AccessGuard } from './access.guard';
import { ApiKeyAuthenticator } from './api-key.authenticator';

/** API keys and roles for the HTTP API (the request hook is registered by createHttpApp). */
@Global()
@Module({
  providers: [
    { provide: ApiKeyAuthenticator, inject: [AppConfig], useFactory: (config: AppConfig) => new ApiKeyAuthenticator(config.auth.keys) },
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [ApiKeyAuthenticator],
})
export class AuthModule {}
