import type { Bus, BusHandler } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';

/**
 * The embedded profile's bus: hands committed events to every subscriber in the same process, in publish
 * order. A failing subscriber does not stop the others; subscribers catch up from the log anyway.
 */
export class InProcessBus implements Bus {
  private readonly handlers = new Set<BusHandler>();

  async publish(events: StoredEvent[]): Promise<void> {
    for (const handler of this.handlers) {
      try {
        await handler(events);
      } catch {
        // Deliberately ignored: the bus is not the source of truth (see the Bus port).
      }
    }
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
