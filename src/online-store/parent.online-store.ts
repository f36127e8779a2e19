import { ResolvedView } from '../core/catalog';
import { OnlineRecord } from '../core/online-record';
import { IpcChannel } from '../queue/ipc-channel';
import { OnlineReadRequest, OnlineStore } from './online-store';

/**
 * The online store of a worker that `serve` forked on the embedded default: the server's own,
 * across the IPC channel. The embedded store is a DuckDB file, which one process writes; the
 * server holds it (it answers every read from it), so the worker's writes are handed to it,
 * and the server applies them with the same newer-wins upsert as its own.
 */
export class ParentOnlineStore extends OnlineStore {
  constructor(private readonly channel: IpcChannel) {
    super();
  }

  write(project: string, view: ResolvedView, records: OnlineRecord[]): Promise<void> {
    return this.channel.request('online', 'write', project, view, records);
  }

  read(project: string, requests: OnlineReadRequest[]): Promise<(OnlineRecord | null)[][]> {
    return this.channel.request('online', 'read', project, requests);
  }

  readEpoch(project: string, view: ResolvedView): Promise<number | null> {
    return this.channel.request('online', 'readEpoch', project, view);
  }

  writeEpoch(project: string, view: ResolvedView, epoch: number): Promise<void> {
    return this.channel.request('online', 'writeEpoch', project, view, epoch);
  }

  /** Teardown is no worker's task: it runs in the process that holds the store. */
  async deleteProject(): Promise<number> {
    throw new Error('a forked worker does not tear down the online store; run featurelake teardown');
  }

  ping(): Promise<void> {
    return this.channel.request('online', 'ping');
  }

  async close(): Promise<void> {}
}
