// The stand-ins for the AWS services that actions change (as opposed to the
// services Maestro itself runs on): Lambda versions and aliases, SSM
// parameters, CloudWatch alarms. One call starts all three, each with its own
// data directory under dataDir, and gives the URLs an endpoints file needs.

import { join } from 'node:path';
import { startCloudWatchEmulator } from '../cloudwatch/cloudwatch-emulator.ts';
import { startLambdaEmulator } from '../lambda/lambda-emulator.ts';
import type { RunningLambdaEmulator } from '../lambda/lambda-emulator.ts';
import { startSsmEmulator } from '../ssm/ssm-emulator.ts';

export interface TargetEmulatorsOptions {
  /** Parent directory; each stand-in keeps its state in dataDir/<service>. */
  dataDir: string;
  /** @default 127.0.0.1 */
  host?: string;
  /** Fixed ports per service; each one missing (or 0) is chosen by the OS. @default {} */
  ports?: Partial<Record<keyof TargetEndpoints, number>>;
  /** @default 000000000000 */
  accountId?: string;
  /** @default us-east-1 */
  region?: string;
}

/** Keyed as endpoints.json keys them. */
export interface TargetEndpoints {
  lambda: string;
  ssm: string;
  cloudwatch: string;
}

export interface RunningTargetEmulators {
  endpoints: TargetEndpoints;
  /** The Lambda stand-in's hosted functions (RunningLambdaEmulator.host). */
  hostFunction: RunningLambdaEmulator['host'];
  region: string;
  accountId: string;
  stop(): Promise<void>;
}

export async function startTargetEmulators(options: TargetEmulatorsOptions): Promise<RunningTargetEmulators> {
  const common = { host: options.host, accountId: options.accountId ?? '000000000000', region: options.region ?? 'us-east-1' };
  const started = await Promise.allSettled([
    startLambdaEmulator({ ...common, dataDir: join(options.dataDir, 'lambda'), port: options.ports?.lambda }),
    startSsmEmulator({ ...common, dataDir: join(options.dataDir, 'ssm'), port: options.ports?.ssm }),
    startCloudWatchEmulator({ ...common, dataDir: join(options.dataDir, 'cloudwatch'), port: options.ports?.cloudwatch }),
  ]);
  const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => {
    await Promise.all(running.map((emulator) => emulator.stop()));
  };
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    // Never leave a half-started set listening.
    await stop();
    throw failure.reason;
  }
  const [lambda, ssm, cloudwatch] = running as [RunningLambdaEmulator, ...typeof running];
  return {
    endpoints: { lambda: lambda.url, ssm: ssm.url, cloudwatch: cloudwatch.url },
    hostFunction: lambda.host,
    region: common.region,
    accountId: common.accountId,
    stop,
  };
}
