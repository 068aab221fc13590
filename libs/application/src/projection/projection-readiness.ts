/** How long the read models may stay behind a log head before readiness says so (ms). */
export const PROJECTION_READINESS_GRACE_MS = 5_000;

/**
 * Readiness's view of the projections (`GET /readyz`, `checks.projections`; contract section "Health"): `'ok'` while
 * the read models hold the log's head, or at least every event of a head this check saw `graceMs` or more ago;
 * `catching up (<projected>/<head>)` otherwise. Under a steady write load the read models always lag the head by a
 * few events (each is projected a moment after its commit): comparing with the head of now made readiness flap,
 * and a load balancer would pull every instance at once. Behind an older head, the projection is stalled or far
 * behind (a start's catch-up, a projector down while writes go on): that is what readiness reports. Until a head
 * `graceMs` old exists, the first head seen stands in for it (at the first call, the head of now: a start that has
 * not caught up is not ready); after a gap of more than 2 x `graceMs` between calls, the head of now counts again.
 * So it flaps no more when asked every few seconds (a load balancer's probe), and is strict when asked rarely.
 *
 * One instance per process, asked by its readiness handler; `now` is injectable for tests (ms since the epoch).
 */
export class ProjectionReadiness {
  /** Heads seen, oldest first: those of the last `graceMs`, and the newest one older than that. */
  private readonly seen: Array<{ at: number; head: number }> = [];

  constructor(
    private readonly graceMs: number = PROJECTION_READINESS_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The check for read models at `projected` when the log ends at `head` (positions). */
  check(projected: number, head: number): string {
    const at = this.now();
    this.seen.push({ at, head });
    while (this.seen.length >= 2 && this.seen[1].at <= at - this.graceMs) this.seen.shift();
    // The newest head at least graceMs old, or (none that old yet) the first one seen: this call's own at the first.
    // One seen long before (no probe for 2 x graceMs) says nothing of when the events since were written: then the
    // head of now counts, as at a first call (a projector restarted after a while must catch up to be ready).
    const reference = this.seen[0].at >= at - 2 * this.graceMs ? this.seen[0].head : head;
    return projected >= reference ? 'ok' : `catching up (${projected}/${head})`;
  }
}
