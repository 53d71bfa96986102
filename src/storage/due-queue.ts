/** One scheduled visit of a delivery: due at `at`; valid only while the delivery still carries `seq`. */
export interface DueEntry {
  at: number;
  id: string;
  seq: number;
}

function before(a: DueEntry, b: DueEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/**
 * A binary min-heap of due entries ordered by (due time, id), so claiming the oldest due
 * deliveries and finding the next due instant cost O(log n) however large the backlog.
 * The heap never removes entries in place: the owner bumps a delivery's sequence number
 * when it reschedules it and skips stale entries as they surface (lazy invalidation).
 */
export class DueQueue {
  private heap: DueEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: DueEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as DueEntry, heap[parent] as DueEntry)) break;
      [heap[i], heap[parent]] = [heap[parent] as DueEntry, heap[i] as DueEntry];
      i = parent;
    }
  }

  peek(): DueEntry | undefined {
    return this.heap[0];
  }

  pop(): DueEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Replaces the contents with `entries` in O(n); used to drop accumulated stale entries. */
  rebuild(entries: DueEntry[]): void {
    this.heap = entries;
    for (let i = (entries.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const n = heap.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && before(heap[left] as DueEntry, heap[smallest] as DueEntry)) smallest = left;
      if (right < n && before(heap[right] as DueEntry, heap[smallest] as DueEntry)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as DueEntry, heap[i] as DueEntry];
      i = smallest;
    }
  }
}

interface DueGroup {
  queue: DueQueue;
  /** Due time of the group's entry in the top heap: a lower bound on its earliest current entry. */
  headAt: number | null;
  /** Sequence of the group's one valid top-heap entry. */
  headSeq: number;
}

/**
 * Due entries grouped (by endpoint): a heap per group and a heap of group heads. Taking the
 * oldest due entries while skipping whole groups then costs O(log n) per entry taken and per
 * group skipped, where one flat heap would have to pop and re-push every entry of a skipped
 * group. Staleness is lazy at both levels: `isCurrent` says whether an entry still counts, and
 * a group's head may sit too early in the top heap until it surfaces and is corrected.
 */
export class GroupedDueIndex {
  private readonly groups = new Map<string, DueGroup>();
  private readonly top = new DueQueue();
  private seq = 0;
  private entries = 0;

  constructor(private readonly isCurrent: (entry: DueEntry) => boolean) {}

  /** Entries held, stale ones included. */
  get size(): number {
    return this.entries;
  }

  add(group: string, entry: DueEntry): void {
    let g = this.groups.get(group);
    if (!g) {
      g = { queue: new DueQueue(), headAt: null, headSeq: 0 };
      this.groups.set(group, g);
    }
    g.queue.push(entry);
    this.entries++;
    if (g.headAt === null || entry.at < g.headAt) this.setHead(group, g, entry.at);
  }

  /** Removes and returns up to `limit` current entries due at `now`, oldest first, skipping `exclude`d groups. */
  take(now: number, limit: number, exclude: ReadonlySet<string> | null): DueEntry[] {
    const taken: DueEntry[] = [];
    const skipped: DueEntry[] = [];
    while (taken.length < limit) {
      const head = this.settledTop();
      if (!head || head.top.at > now) break;
      this.top.pop();
      if (exclude?.has(head.top.id)) {
        skipped.push(head.top);
        continue;
      }
      head.group.queue.pop();
      this.entries--;
      taken.push(head.entry);
      const next = this.currentHead(head.group);
      if (next) this.setHead(head.top.id, head.group, next.at);
      else this.groups.delete(head.top.id);
    }
    for (const entry of skipped) this.top.push(entry);
    return taken;
  }

  /** Due time of the earliest current entry, or null. */
  earliest(): number | null {
    return this.settledTop()?.top.at ?? null;
  }

  clear(): void {
    this.groups.clear();
    this.top.rebuild([]);
    this.entries = 0;
  }

  private setHead(id: string, g: DueGroup, at: number): void {
    g.headAt = at;
    g.headSeq = ++this.seq;
    this.top.push({ at, id, seq: g.headSeq });
  }

  /** The group's earliest current entry, dropping stale ones on the way. */
  private currentHead(g: DueGroup): DueEntry | undefined {
    for (;;) {
      const entry = g.queue.peek();
      if (!entry || this.isCurrent(entry)) return entry;
      g.queue.pop();
      this.entries--;
    }
  }

  /** Corrects the top heap until its first entry is exact, and returns it with its group and entry. */
  private settledTop(): { top: DueEntry; group: DueGroup; entry: DueEntry } | undefined {
    for (;;) {
      const top = this.top.peek();
      if (!top) return undefined;
      const group = this.groups.get(top.id);
      if (!group || group.headSeq !== top.seq) {
        this.top.pop();
        continue;
      }
      const entry = this.currentHead(group);
      if (!entry) {
        this.top.pop();
        this.groups.delete(top.id);
        continue;
      }
      if (entry.at !== top.at) {
        this.top.pop();
        this.setHead(top.id, group, entry.at);
        continue;
      }
      return { top, group, entry };
    }
  }
}
