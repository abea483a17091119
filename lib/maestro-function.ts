import { Duration } from 'aws-cdk-lib';
import { basename } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import type { FunctionPlacement } from './isolated-network.ts';
export type { FunctionPlacement } from './isolated-network.ts';
import { acknowledgeNag, managedPolicyFinding } from './nag.ts';
import { projectPath, projectPathExists, projectRoot } from './project-paths.ts';
import { packBundleEntry } from './pack-bundles.ts';
import type { SynthesizedPack } from './pack-bundles.ts';
import type { StateTable } from './state-table.ts';
import { CONFIG_FILE_VARIABLE, envVar } from '../functions/core/config/environment-variables.ts';
import { BAKED_CONFIG_FILE } from '../functions/handlers/shared/lambda-config.ts';
import { bakedConfigFile } from './baked-config.ts';
import { builtinAliases } from './node-builtins.ts';
import { sdkClientAliases } from './sdk-client-copies.ts';

/** Properties of a {@link MaestroFunction}. */
export interface MaestroFunctionProps {
  /** The handler file, relative to the repository root (e.g. `functions/handlers/run/admit.ts`); it exports `handler`. */
  readonly entry: string;

  /**
   * Built folders the handler reads at run time, relative to the repository root, copied into the
   * bundle at the same path (the API serves `console/dist`).
   *
   * @default - none
   */
  readonly assetDirs?: readonly string[];

  /**
   * Generated files the handler reads at run time, relative to the repository root, copied beside
   * the bundle's `index.mjs` under their own name (the operations API serves `docs/openapi.json`).
   *
   * @default - none
   */
  readonly assetFiles?: readonly string[];

  /**
   * The state table: its name goes into `MAESTRO_STATE_TABLE` and the function may read and write its items.
   *
   * @default - none: the function neither knows nor may touch Maestro's state (the action executors)
   */
  readonly stateTable?: StateTable;

  /**
   * The artifact vault: its bucket name goes into `MAESTRO_ARTIFACT_BUCKET` (no access is granted).
   *
   * @default - none
   */
  readonly artifactVault?: ArtifactVault;

  /**
   * What the function does, for the console and the audit trail.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Environment variables added to the common ones (`MAESTRO_STATE_TABLE`, `MAESTRO_ARTIFACT_BUCKET`,
   * `MAESTRO_AUTH_MODE`, `POWERTOOLS_SERVICE_NAME`; no `NODE_OPTIONS`: see source-mapped-stacks.ts).
   *
   * @default - the common ones only
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * How long one invocation may run.
   *
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * Memory, in MiB (CPU scales with it).
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Whether the AWS SDK is bundled (about 0.5 MB more per function) instead of taken from the
   * runtime. Bundled, the function runs the SDK versions of package-lock.json, which the embedded
   * stack and the tests run too; the runtime's copy can lag behind them.
   *
   * @default true
   */
  readonly bundleAwsSdk?: boolean;

  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Where the function runs in the VPC (see IsolatedNetwork: isolated subnets, or the controlled egress path).
   *
   * @default - outside any VPC
   */
  readonly network?: FunctionPlacement;

  /**
   * Action packs the bundle carries (lib/pack-bundles.ts): a generated entry imports their modules
   * statically and registers them with the hashes the synth verified, and `MAESTRO_PACKS` lists their pins.
   *
   * @default - none: `MAESTRO_PACKS` is `[]` and the function knows the built-in actions only
   */
  readonly packs?: readonly SynthesizedPack[];
}

/**
 * The Lambda runtime of every Maestro function.
 */
export const MAESTRO_RUNTIME: lambda.Runtime = lambda.Runtime.NODEJS_24_X;

/** The resource metadata key under which the template records the handler file of a function (`functions/...ts`). */
export const ENTRY_METADATA_KEY = 'maestro:entry';

/** `ajv` and `ajv-formats`, imported by the MCP SDK's server module only, in a bundle: a module that refuses. */
const NO_AJV_ALIASES = ['ajv=./functions/handlers/mcp/no-ajv.ts', 'ajv-formats=./functions/handlers/mcp/no-ajv.ts'];

/** The SDK's default credential chain in a bundle (functions/adapters/lambda-credentials.ts): the environment's. */
export const LAMBDA_CREDENTIALS_MODULE = 'functions/adapters/lambda-credentials.ts';

/**
 * Every esbuild `--alias` of a bundle (`from=to`, relative to the project root), the synth's and
 * test/lib/bundle-contents.test.ts': credentials from the environment only; no ajv (the MCP SDK's, which
 * Maestro's MCP server never calls: functions/handlers/mcp/no-ajv.ts); the SDK clients from copies whose
 * schemas esbuild can tree-shake (sdk-client-copies.ts); Node's built-ins through CommonJS shims, not ES
 * imports (node-builtins.ts).
 */
export function bundleAliases(): string[] {
  return [`@aws-sdk/credential-provider-node=./${LAMBDA_CREDENTIALS_MODULE}`, ...NO_AJV_ALIASES, ...sdkClientAliases(), ...builtinAliases()];
}

/**
 * Makes `require` exist in the ESM bundle, for CommonJS dependencies that esbuild wraps. Through
 * `process.getBuiltinModule`, not an `import` of `node:module` (see node-builtins.ts: no ES facade).
 */
const ESM_REQUIRE_BANNER = "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);";

/**
 * A Maestro Lambda function: Node.js 24 on arm64, bundled by the local esbuild into one minified ESM
 * file (names kept) with a source map, X-Ray tracing on, its own log group with a set retention, the common
 * Maestro environment, and read/write access to the state table when it is given one.
 */
export class MaestroFunction extends nodejs.NodejsFunction {
  /** The handler file, relative to the repository root. */
  readonly entryPath: string;

  constructor(scope: Construct, id: string, props: MaestroFunctionProps) {
    if (!/^functions\/[\w./-]+\.ts$/.test(props.entry) || props.entry.includes('..')) {
      throw new Error(`MaestroFunction ${id}: entry must be a .ts file under functions/, got ${JSON.stringify(props.entry)}`);
    }
    if (!projectPathExists(props.entry)) {
      throw new Error(`MaestroFunction ${id}: the handler file ${JSON.stringify(props.entry)} does not exist (it must export \`handler\`)`);
    }
    for (const file of props.assetFiles ?? []) {
      if (!/^[\w./-]+$/.test(file) || file.includes('..') || !projectPathExists(file)) {
        throw new Error(`MaestroFunction ${id}: assetFiles entry ${JSON.stringify(file)} must be an existing file of the repository`);
      }
    }
    // The configuration travels as JSON (lambda-config.ts): the bundle carries no YAML parser.
    const bakedConfig = bakedConfigFile();
    const aliases = bundleAliases();
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    super(scope, id, {
      entry: props.packs?.length ? packBundleEntry(props.entry, props.packs) : projectPath(props.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: projectPath('package-lock.json'),
      runtime: MAESTRO_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      ...props.network,
      environment: {
        ...(props.stateTable ? { [envVar('state.table')]: props.stateTable.tableName } : {}),
        ...(props.artifactVault ? { [envVar('state.artifactBucket')]: props.artifactVault.bucketName } : {}),
        [envVar('identity.authMode')]: 'iam',
        POWERTOOLS_SERVICE_NAME: 'maestro',
        // No --enable-source-maps: it parses the bundle's map at every cold start; the bundle maps its stacks when it formats one (source-mapped-stacks.ts).
        // The guardrails and Cedar policies travel inside the bundle (see commandHooks below).
        [CONFIG_FILE_VARIABLE]: BAKED_CONFIG_FILE,
        [envVar('policy.dir')]: 'policies',
        // Only the packs this bundle carries: any other function loads the built-ins only, so a pack's
        // action is refused (UnknownAction) by every executor but its own pack's.
        [envVar('packs')]: JSON.stringify((props.packs ?? []).map((pack) => pack.pin)),
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // Error names are literals (functions/core/errors.ts); keeping every class and function name is
        // the backstop for any name the code reads at run time (a minifier would rename them).
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        forceDockerBundling: false,
        bundleAwsSDK: props.bundleAwsSdk ?? true,
        // Cedar's CommonJS build (`/nodejs`) loads its .wasm from its own folder, so it ships as a module
        // beside the bundle (copied, not installed: synth stays offline) with the config and policy
        // files. Only that build is copied: the package's esm/ and web/ builds would triple the asset.
        externalModules: ['@cedar-policy/cedar-wasm'],
        // bundleAliases(): among them, credentials from the environment only, where Lambda puts the role's (the
        // SDK's full default chain, SSO, ini files, STS, metadata, would add about 110 KiB to every bundle for nothing).
        esbuildArgs: { '--alias': aliases },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp ${inputDir}/${bakedConfig} ${outputDir}/${BAKED_CONFIG_FILE}`,
            `cp -r ${inputDir}/policies ${outputDir}/policies`,
            // Only where the bundle can decide (its composition root wires the policy engine): a function
            // that never decides carries no Cedar at all.
            `if grep -q '@cedar-policy/cedar-wasm' ${outputDir}/index.mjs; then mkdir -p ${outputDir}/node_modules/@cedar-policy/cedar-wasm && cp ${inputDir}/node_modules/@cedar-policy/cedar-wasm/package.json ${outputDir}/node_modules/@cedar-policy/cedar-wasm/package.json && cp -r ${inputDir}/node_modules/@cedar-policy/cedar-wasm/nodejs ${outputDir}/node_modules/@cedar-policy/cedar-wasm/nodejs; fi`,
            // The tracer (with the X-Ray SDK) is a file of its own, imported only where tracing is on
            // (functions/handlers/shared/telemetry.ts): built with the same settings, where the bundle names it.
            `if grep -q 'tracer.mjs' ${outputDir}/index.mjs; then ${inputDir}/node_modules/.bin/esbuild ${inputDir}/functions/handlers/shared/tracer-module.ts --bundle --platform=node --format=esm --target=node24 --main-fields=module,main --minify --keep-names --log-level=error "--banner:js=${ESM_REQUIRE_BANNER}" ${aliases.map((alias) => `--alias:${alias}`).join(' ')} --outfile=${outputDir}/tracer.mjs; fi`,
            ...(props.assetFiles ?? []).map((file) => `cp ${inputDir}/${file} ${outputDir}/${basename(file)}`),
            ...(props.assetDirs ?? []).flatMap((dir) => [`mkdir -p ${outputDir}/${dir}`, `cp -r ${inputDir}/${dir}/. ${outputDir}/${dir}/`]),
          ],
        },
      },
    });
    this.entryPath = props.entry;
    // The template names each function's source, so the embedded stack can load its bundle from cdk.out.
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA_KEY, props.entry);
    props.stateTable?.grantReadWriteData(this);

    // cdk-nag: the CDK's default Lambda role, as every Maestro function has it.
    acknowledgeNag(
      this.role!,
      {
        id: managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'),
        reason:
          'AWSLambdaBasicExecutionRole is the minimal AWS-maintained policy for a function to write its own log streams (logs:CreateLogStream/PutLogEvents).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active X-Ray tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions: "*" is the only resource they accept.',
      },
    );
    if (props.network) {
      acknowledgeNag(this.role!, {
        id: managedPolicyFinding('service-role/AWSLambdaVPCAccessExecutionRole'),
        reason:
          'AWSLambdaVPCAccessExecutionRole is the minimal AWS-maintained policy that lets Lambda create and delete the ENIs of a function in a VPC (ec2:*NetworkInterface*).',
      });
    }
  }
}
