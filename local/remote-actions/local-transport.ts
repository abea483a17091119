import { configToEnvironment } from '../../functions/core/config/environment-variables.ts';
import type { Config } from '../../functions/core/config/schema.ts';
import { remoteTransports } from '../../functions/core/actions/remote-protocol.ts';
import type { RemoteActionTransport } from '../../functions/core/actions/remote-protocol.ts';
import { commandTransport } from './command-transport.ts';
import { httpTransport } from './http-transport.ts';

/** The SDK variable that names each managed-target service's endpoint. */
const ENDPOINT_VARIABLE = { s3: 'AWS_ENDPOINT_URL_S3', dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB' } as const;
const CREDENTIAL_VARIABLES = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/**
 * The embedded stack's remote-action transports: local commands and loopback HTTP endpoints (Lambda
 * ARNs are AWS's: refused here as `unsupported-endpoint`). A command that declares services gets
 * their endpoints from the stack's configuration and its credentials, and nothing else of Maestro's.
 */
export function localRemoteTransport(config: Config): RemoteActionTransport {
  const known: Record<string, string | undefined> = {
    ...configToEnvironment(config),
    AWS_REGION: config.aws.region,
    AWS_ACCESS_KEY_ID: config.aws.credentials?.accessKeyId,
    AWS_SECRET_ACCESS_KEY: config.aws.credentials?.secretAccessKey,
  };
  const serviceEnvironment = (services: readonly (keyof typeof ENDPOINT_VARIABLE)[]) => {
    const granted: Record<string, string> = {};
    for (const service of services) {
      const endpoint = known[ENDPOINT_VARIABLE[service]] ?? known.AWS_ENDPOINT_URL;
      if (endpoint !== undefined) granted[ENDPOINT_VARIABLE[service]] = endpoint;
    }
    for (const name of CREDENTIAL_VARIABLES) {
      const value = known[name] ?? process.env[name];
      if (value !== undefined) granted[name] = value;
    }
    return granted;
  };
  return remoteTransports({ command: commandTransport({ serviceEnvironment }), url: httpTransport() });
}
