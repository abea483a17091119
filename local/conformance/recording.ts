import type { CommandSink } from './types.ts';

interface InstrumentableClient {
  middlewareStack: {
    add(
      middleware: (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/**
 * Adds a middleware at the `initialize` step (before any serialisation, so the input is still what the
 * caller built: a document client's native key) that reports every command to `sink`, and marks it
 * refused when the service answers with an error. A DynamoDB document client shares its raw client's
 * stack, so instrumenting the raw client covers both.
 */
export function recordCommands<Client>(client: Client, service: string, sink: CommandSink): Client {
  (client as unknown as InstrumentableClient).middlewareStack.add(
    (next, context) => async (args) => {
      const recorded = sink(service, (context.commandName ?? 'UnknownCommand').replace(/Command$/, ''), (args.input ?? {}) as Record<string, unknown>);
      try {
        return await next(args);
      } catch (error) {
        if (recorded) recorded.refused = true;
        throw error;
      }
    },
    { step: 'initialize', name: 'conformanceCommandRecorder', priority: 'high' },
  );
  return client;
}
