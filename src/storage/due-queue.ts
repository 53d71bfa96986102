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
