import { fromEnv } from '@aws-sdk/credential-providers';

/**
 * The SDK's default credential chain as a Lambda bundle has it (lib/maestro-function.ts aliases
 * `@aws-sdk/credential-provider-node`, whose `defaultProvider` is all the clients import, to this
 * module): the environment only. Lambda gives a function its role's credentials there
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the full chain's first link, so the
 * rest of it (SSO, ini files, processes, web identity, container and instance metadata, with the STS
 * and SSO clients: about 110 KiB) is never reached there.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}): ReturnType<typeof fromEnv> => fromEnv(init);
