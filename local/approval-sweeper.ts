/** Runs the approval sweeper on a timer, one sweep at a time (EventBridge Scheduler does this in AWS). */
export function startApprovalSweeper(options: { intervalMs: number; sweep: () => Promise<unknown> }): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = options
      .sweep()
      .catch((error: unknown) => console.error(`maestro: approval sweep: ${(error as Error).message}`))
      .finally(() => (running = undefined));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
