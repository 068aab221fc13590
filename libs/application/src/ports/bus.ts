import type { StoredEvent } from '@arbor/domain';

export type BusHandler = (events: StoredEvent[]) => Promise<void> | void;

/**
 * Carries committed events from the command side to whoever listens (projectors, subscribers). A bus is
 * a delivery channel, not the source of truth: listeners that must not miss anything catch up from the
 * event store by position, so a lost or repeated delivery costs time, never correctness.
 */
export interface Bus {
  publish(events: StoredEvent[]): Promise<void>;
  subscribe(handler: BusHandler): () => void;
  close(): Promise<void>;
}
