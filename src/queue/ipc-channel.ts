import { DomainError, errorRecord, ErrorRecord, fromErrorRecord } from '../common/errors';

/** Provides the channel to the server in a worker that `serve` forked (queue.url `parent`); absent elsewhere. */
export const PARENT_CHANNEL = Symbol('ParentChannel');

/** Either end of a Node IPC channel: the child's `process`, or the parent's ChildProcess. */
export interface IpcPort {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Message = { fl: 'req'; id: number; method: string; args: unknown[] } | { fl: 'res'; id: number; value?: unknown; error?: ErrorRecord };

type Handler = (...args: never[]) => Promise<unknown>;

/**
 * Requests and answers between a server and the worker it forked, over Node's IPC channel
 * (started with `serialization: 'advanced'`, so bigints, NaN and Buffers arrive as they left).
 * Each side handles methods by name; an error crosses as its record, and is thrown on the
 * asking side as the same code and status. When the other end goes, every open request fails
 * with `gone` (the asker decides whether to try again).
 */
export class IpcChannel {
  private readonly handlers = new Map<string, Handler>();
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed?: DomainError;
  private readonly listener = (message: unknown) => void this.receive(message as Message);

  constructor(private readonly port: IpcPort) {
    port.on('message', this.listener);
  }

  handle(method: string, handler: Handler): void {
    this.handlers.set(method, handler);
  }

  request<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send({ fl: 'req', id, method, args }, (error) => {
        if (!error) return;
        this.pending.delete(id);
        reject(this.closed ?? error);
      });
    });
  }

  /** The other end is gone: open requests fail with `reason`, and so does every later one. */
  close(reason: DomainError): void {
    this.closed = reason;
    this.port.off('message', this.listener);
    for (const { reject } of this.pending.values()) reject(reason);
    this.pending.clear();
  }

  private async receive(message: Message): Promise<void> {
    if (message?.fl === 'res') {
      const open = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) open?.reject(fromErrorRecord(message.error));
      else open?.resolve(message.value);
      return;
    }
    if (message?.fl !== 'req') return; // not ours
    const handler = this.handlers.get(message.method);
    try {
      if (!handler) throw new Error(`no IPC method ${message.method}`);
      this.send({ fl: 'res', id: message.id, value: await handler(...(message.args as never[])) });
    } catch (error) {
      this.send({ fl: 'res', id: message.id, error: errorRecord(error) });
    }
  }

  private send(message: Message, callback: (error: Error | null) => void = () => undefined): void {
    if (this.closed || !this.port.send) return callback(this.closed ?? new Error('no IPC channel'));
    try {
      this.port.send(message, callback);
    } catch (error) {
      callback(error as Error);
    }
  }
}
