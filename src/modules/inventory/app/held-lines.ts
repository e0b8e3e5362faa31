// What each reservation this instance recently held holds. A reservation's lines never change
// once it is written, so a commit that finds its order here can send its whole unit of work (the
// move from held, the event, the stock taken) with its COMMIT, in one round trip on Postgres,
// instead of reading the lines first; the move's own check (it must find the reservation held)
// keeps it right whatever happened since. A commit that finds nothing here (another instance
// reserved it, this one restarted or forgot it) reads them as before. Bounded: the oldest go first.
import type { Line } from '../domain/reservation.ts';

export class HeldLines {
  private readonly lines = new Map<string, Line[]>();
  private readonly max: number;

  constructor(max = 10_000) {
    this.max = max;
  }

  remember(orderId: string, lines: Line[]): void {
    this.lines.delete(orderId);
    this.lines.set(orderId, lines);
    if (this.lines.size > this.max) this.lines.delete(this.lines.keys().next().value!);
  }

  of(orderId: string): Line[] | undefined {
    return this.lines.get(orderId);
  }

  forget(orderId: string): void {
    this.lines.delete(orderId);
  }
}
