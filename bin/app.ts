import { App } from 'aws-cdk-lib';
import { MaestroStack } from '../lib/maestro-stack.ts';

const app = new App();

// Account and region come from the CLI's credentials when it has some; without them the stack is
// environment-agnostic and still synthesizes offline.
new MaestroStack(app, 'Maestro', {
  description: 'Maestro: control plane for semi-autonomous operations',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

app.synth();
