import { sql } from 'kysely';
import type { Db } from '../sql/dialect.js';

/** Emits within this window share one NOTIFY. */
const NOTIFY_COALESCE_MS = 5;

/**
 * NOTIFY serialises committing transactions on a server-wide lock, and one wake-up per burst
 * is all an idle scheduler needs. So an emit notifies inside its own statement only when no
 * wake-up went out in the last few ms (`notifyNow`); otherwise a trailing NOTIFY follows its
 * commit (`notifySoon`), so the last write of a burst always wakes the other processes.
 */
export class NotifyCoalescer {
  private lastNotifyAt = 0;
  private trailing: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly channel: string,
  ) {}

  /** True when the caller should notify in its own statement; the wake-up counts as sent. */
  notifyNow(): boolean {
    const now = Date.now();
    if (now - this.lastNotifyAt < NOTIFY_COALESCE_MS) return false;
    this.lastNotifyAt = now;
    return true;
  }

  /** Sends one trailing wake-up shortly, shared by every caller until it goes out. */
  notifySoon(): void {
    if (this.trailing || this.closed) return;
    this.trailing = setTimeout(() => {
      this.trailing = null;
      this.lastNotifyAt = Date.now();
      // A lost trailing wake-up only costs latency: polling still finds the work.
      sql`SELECT pg_notify(${this.channel}, '')`.execute(this.db).catch(() => undefined);
    }, NOTIFY_COALESCE_MS);
    this.trailing.unref();
  }

  close(): void {
    this.closed = true;
    if (this.trailing) clearTimeout(this.trailing);
    this.trailing = null;
  }
}
