// The canary when several proxy processes share one table (shared-table.ts): the process holding
// the lease runs the controller — it drains every process's finished requests, judges, advances
// or rolls back, and saves the canaries' state and view after each tick; the others send their
// results, forward start/abort commands, and show the holder's view. A process that gains the
// lease carries on from the saved state.
import type { Logger } from 'pino';
import { isActive, type CanaryCommand, type CanaryController, type CanaryStatus, type CarriedCanary } from './canary-controller.ts';
import type { ClusterCanary } from './admin-actions.ts';
import type { RouteTable } from './route-table.ts';
import type { SharedTable } from './shared-table.ts';
import type { Side } from './side-assignment.ts';

const TICK_MS = 100;

export class SharedCanary implements ClusterCanary {
  private view: Record<string, { status?: CanaryStatus }> = {};
  private batch: [string, Side, number, boolean][] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** This process holds the lease and has taken over the saved state: it runs the controller. */
  private leading = false;
  private readonly shared: SharedTable;
  private readonly controller: CanaryController;
  private readonly table: () => RouteTable;
  private readonly log: Logger;

  constructor(shared: SharedTable, controller: CanaryController, table: () => RouteTable, log: Logger) {
    this.shared = shared;
    this.controller = controller;
    this.table = table;
    this.log = log;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Hot path: a finished request; kept only for routes whose canary is running. */
  report(route: string, side: Side, ms: number, isError: boolean): void {
    const status = this.view[route]?.status;
    if (isActive(status)) this.batch.push([route, side, ms, isError]);
  }

  state(): unknown {
    return this.view;
  }

  command(cmd: CanaryCommand): void {
    if (this.leading) this.apply(cmd);
    else void this.shared.sendCanaryCommand(cmd).catch((err: Error) => this.log.error({ err: err.message }, 'canary command not sent'));
  }

  /** A command, on the holder. */
  apply(cmd: CanaryCommand): void {
    try {
      this.controller.apply(cmd, (route) => this.table().config.routes.find((r) => r.name === route)?.canary);
    } catch (err) {
      this.log.error({ err: (err as Error).message, route: cmd.route }, 'canary command failed');
    }
  }

  /** The lease came to this process (true: carry on from the last saved state) or went (false). */
  async onLease(held: boolean): Promise<void> {
    if (!held) {
      this.leading = false;
      return;
    }
    const saved = await this.shared.loadCanary();
    if (saved) this.controller.importState(saved.state as CarriedCanary[]);
    this.leading = this.shared.holdsLease;
    // The first controller of a shared table starts the canaries configured to start on their own.
    if (!saved && this.leading) for (const r of this.table().config.routes) if (r.canary?.autoStart) this.apply({ op: 'start', route: r.name });
    this.log.info({ routes: Object.keys(this.controller.snapshot()) }, 'this process runs the canary now');
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (this.batch.length) {
        const batch = this.batch;
        this.batch = [];
        await this.shared.pushResults(batch);
      }
      if (this.leading && this.shared.holdsLease) {
        for (const b of await this.shared.drainResults()) {
          for (const [route, side, ms, isError] of b as [string, Side, number, boolean][]) this.controller.record(route, side, ms, isError);
        }
        this.controller.tick();
        const view = this.controller.snapshot() as Record<string, { status?: CanaryStatus }>;
        await this.shared.saveCanary(this.controller.exportState(), view);
        this.view = view;
      } else {
        const saved = await this.shared.loadCanary();
        if (saved) this.view = saved.view as Record<string, { status?: CanaryStatus }>;
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'shared canary: tick failed');
    } finally {
      this.busy = false;
    }
  }
}
