import { Injectable } from '@nestjs/common';
import { ShuttingDownError } from './errors';

/**
 * Fires when the process is stopping and its grace period for work in flight is over: running
 * engine statements are interrupted (their requests answer 503 SHUTTING_DOWN, their temp files
 * are removed) so that the process exits within its drain deadline.
 */
@Injectable()
export class ShutdownSignal {
  private readonly controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stop(): void {
    this.controller.abort(new ShuttingDownError('the server is shutting down; this work was stopped before it finished and nothing of it was kept; try again'));
  }
}
