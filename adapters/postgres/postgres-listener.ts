import type { Logger } from '../../src/logger.js';
import type { Notifier } from '../sql/sql-storage.js';
import { describeThrown } from '../../src/errors.js';

/** The parts of a pg `PoolClient` a LISTEN connection uses (typed structurally: pg is never imported). */
export interface ListenClient {
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  release(destroy?: boolean | Error): void;
}

export interface ListenPool {
  connect(): Promise<ListenClient>;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * One dedicated connection that LISTENs on the installation's channel and calls every
 * subscriber on each notification. It is opened by the first subscriber and closed with the
 * last. When the connection drops it reconnects with backoff and wakes subscribers once,
 * since notifications sent while it was away are lost (polling covers the gap meanwhile).
 */
export class PgNotifier implements Notifier {
  private readonly listeners = new Set<() => void>();
  private client: ListenClient | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RECONNECT_MIN_MS;
  private closed = false;

  constructor(
    private readonly pool: () => Promise<ListenPool>,
    private readonly channel: string,
    private readonly logger?: Logger,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    this.ensureConnected(false);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.disconnect();
    };
  }

  /** Resolves once the LISTEN is active (for tests and for hosts that want to know). */
  async ready(): Promise<void> {
    await this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.disconnect();
  }

  private ensureConnected(isReconnect: boolean): void {
    if (this.closed || this.client || this.connecting || this.listeners.size === 0) return;
    this.connecting = this.connect(isReconnect).finally(() => {
      this.connecting = undefined;
    });
  }

  private async connect(isReconnect: boolean): Promise<void> {
    let client: ListenClient | undefined;
    try {
      client = await (await this.pool()).connect();
      const current = client;
      current.on('notification', (message) => {
        if (message.channel === this.channel) this.wake();
      });
      current.on('error', (error) => this.lost(current, error));
      current.on('end', () => this.lost(current, undefined));
      await current.query(`LISTEN ${quoteIdent(this.channel)}`);
      if (this.closed || this.listeners.size === 0) {
        current.release();
        return;
      }
      this.client = current;
      this.retryDelay = RECONNECT_MIN_MS;
      if (isReconnect) this.wake();
    } catch (error) {
      client?.release(true);
      this.logger?.warn({ err: describeThrown(error) }, 'hookrelay: LISTEN connection failed; retrying');
      this.scheduleReconnect();
    }
  }

  private lost(client: ListenClient, error: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.release(error ?? true);
    this.logger?.warn({ err: error?.message }, 'hookrelay: LISTEN connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer || this.listeners.size === 0) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RECONNECT_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.ensureConnected(true);
    }, delay);
    this.retryTimer.unref();
  }

  private wake(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.logger?.error({ err: describeThrown(error) }, 'hookrelay: wake-up listener threw');
      }
    }
  }

  private async disconnect(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      await client.query(`UNLISTEN ${quoteIdent(this.channel)}`);
      client.release();
    } catch {
      client.release(true);
    }
  }
}

/** LISTEN runs on a raw pg client, outside kysely, so the channel is quoted here. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
