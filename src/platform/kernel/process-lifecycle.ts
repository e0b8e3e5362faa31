// Port binding, fast start, graceful drain on SIGTERM/SIGINT and exit 0 when done.
import type { RunningApp } from './create-app.ts';

export async function runUntilSignalled(app: RunningApp): Promise<void> {
  await app.listen();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    app.logger.info({ signal }, 'draining');
    // Bound the whole stop, in case a module's stop hook hangs.
    const guard = setTimeout(() => {
      app.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, app.config.SHUTDOWN_TIMEOUT_MS + 5_000);
    guard.unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
