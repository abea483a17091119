import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { startLambdaEmulator } from '../../../local/lambda/lambda-emulator.ts';
import type { RunningLambdaEmulator } from '../../../local/lambda/lambda-emulator.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const role = 'arn:aws:iam::000000000000:role/checkout-role';
const clientFor = (emulator: RunningLambdaEmulator) => new LambdaClient({ endpoint: emulator.url, region: emulator.region, credentials, maxAttempts: 1 });

/** An empty zip archive whose comment makes each build distinct. */
function zipArchive(comment: string): Uint8Array {
  const text = Buffer.from(comment);
  const record = Buffer.alloc(22);
  record.writeUInt32LE(0x06054b50, 0);
  record.writeUInt16LE(text.length, 20);
  return Buffer.concat([record, text]);
}

const sha256Base64 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

async function createFunction(client: LambdaClient, name: string, build = 'build-1') {
  return client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: role,
      Code: { ZipFile: zipArchive(build) },
    }),
  );
}

/** A function with versions 1 and 2 (two different builds). */
async function functionWithTwoVersions(client: LambdaClient, name: string) {
  await createFunction(client, name, `${name}-1`);
  const first = await client.send(new PublishVersionCommand({ FunctionName: name }));
  await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zipArchive(`${name}-2`) }));
  const second = await client.send(new PublishVersionCommand({ FunctionName: name, Description: 'second build' }));
  return [first.Version!, second.Version!];
}

describe('Lambda stand-in', () => {
  let dataDir: string;
  let emulator: RunningLambdaEmulator;
  let client: LambdaClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-lambda-'));
    emulator = await startLambdaEmulator({ dataDir });
    client = clientFor(emulator);
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a function as metadata, recording the SHA-256 and size of its zip', async () => {
    const zip = zipArchive('checkout v1');
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: 'checkout',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: role,
        Code: { ZipFile: zip },
        Description: 'cart',
      }),
    );
    expect(created).toMatchObject({
      FunctionName: 'checkout',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:checkout',
      Version: '$LATEST',
      CodeSha256: sha256Base64(zip),
      CodeSize: zip.length,
      Timeout: 3,
      MemorySize: 128,
      State: 'Active',
      $metadata: { httpStatusCode: 201 },
    });
    expect(created.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    const read = await client.send(new GetFunctionCommand({ FunctionName: 'checkout' }));
    expect(read.Configuration).toMatchObject({ CodeSha256: sha256Base64(zip), RevisionId: created.RevisionId, Description: 'cart' });
    const byArn = await client.send(new GetFunctionCommand({ FunctionName: created.FunctionArn }));
    expect(byArn.Configuration!.FunctionName).toBe('checkout');
  });

  it('accepts an S3 code location without reading it', async () => {
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: 'from-s3',
        Runtime: 'python3.13',
        Handler: 'app.handler',
        Role: role,
        Code: { S3Bucket: 'artifacts', S3Key: 'from-s3/v1.zip' },
      }),
    );
    expect(created.CodeSha256).toBe(sha256Base64(Buffer.from('s3://artifacts/from-s3/v1.zip')));
    expect(created.CodeSize).toBe(0);
  });

  it('refuses a duplicate, a missing function, a non-zip and a bad name with the errors Lambda gives', async () => {
    await createFunction(client, 'dup');
    const duplicate = await createFunction(client, 'dup').catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ResourceConflictException);
    expect((duplicate as ResourceConflictException).$metadata.httpStatusCode).toBe(409);

    const missing = await client.send(new GetFunctionCommand({ FunctionName: 'nobody' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as Error).message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nobody');
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);

    const notZip = await client
      .send(
        new CreateFunctionCommand({
          FunctionName: 'not-zip',
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: role,
          Code: { ZipFile: Buffer.from('hello') },
        }),
      )
      .catch((e: unknown) => e);
    expect(notZip).toBeInstanceOf(InvalidParameterValueException);

    const badName = await client
      .send(
        new CreateFunctionCommand({
          FunctionName: 'has space',
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: role,
          Code: { ZipFile: zipArchive('x') },
        }),
      )
      .catch((e: unknown) => e);
    expect(badName).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect((badName as Error).message).toContain("at 'functionName'");
  });

  it('publishes numbered versions, returns the newest for an unchanged $LATEST, and lists them', async () => {
    const [first, second] = await functionWithTwoVersions(client, 'versions');
    expect([first, second]).toEqual(['1', '2']);
    const again = await client.send(new PublishVersionCommand({ FunctionName: 'versions' }));
    expect(again.Version).toBe('2');

    const { Versions } = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'versions' }));
    expect(Versions!.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    expect(Versions![2]).toMatchObject({ Description: 'second build', FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:versions:2' });
    expect(Versions![1].CodeSha256).not.toBe(Versions![2].CodeSha256);

    const page = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'versions', MaxItems: 2 }));
    expect(page.Versions).toHaveLength(2);
    const rest = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'versions', Marker: page.NextMarker }));
    expect(rest.Versions!.map((v) => v.Version)).toEqual(['2']);
  });

  it('refuses PublishVersion with a stale RevisionId or another CodeSha256', async () => {
    const created = await createFunction(client, 'guarded-publish');
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'guarded-publish', ZipFile: zipArchive('next') }));
    const stale = await client.send(new PublishVersionCommand({ FunctionName: 'guarded-publish', RevisionId: created.RevisionId })).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(PreconditionFailedException);
    expect((stale as PreconditionFailedException).$metadata.httpStatusCode).toBe(412);
    const wrongCode = await client
      .send(new PublishVersionCommand({ FunctionName: 'guarded-publish', CodeSha256: created.CodeSha256 }))
      .catch((e: unknown) => e);
    expect(wrongCode).toBeInstanceOf(InvalidParameterValueException);
    const { Versions } = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'guarded-publish' }));
    expect(Versions!.map((v) => v.Version)).toEqual(['$LATEST']);
  });

  it('creates an alias, shifts weight to the new version in steps, then promotes it', async () => {
    const [v1, v2] = await functionWithTwoVersions(client, 'shift');
    const alias = await client.send(new CreateAliasCommand({ FunctionName: 'shift', Name: 'live', FunctionVersion: v1 }));
    expect(alias).toMatchObject({
      AliasArn: 'arn:aws:lambda:us-east-1:000000000000:function:shift:live',
      FunctionVersion: '1',
      $metadata: { httpStatusCode: 201 },
    });
    expect(alias.RoutingConfig).toBeUndefined();

    let revision = alias.RevisionId;
    for (const weight of [0.1, 0.5]) {
      const shifted = await client.send(
        new UpdateAliasCommand({
          FunctionName: 'shift',
          Name: 'live',
          RevisionId: revision,
          RoutingConfig: { AdditionalVersionWeights: { [v2]: weight } },
        }),
      );
      expect(shifted).toMatchObject({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': weight } } });
      expect(shifted.RevisionId).not.toBe(revision);
      revision = shifted.RevisionId;
    }
    const promoted = await client.send(
      new UpdateAliasCommand({ FunctionName: 'shift', Name: 'live', RevisionId: revision, FunctionVersion: v2, RoutingConfig: {} }),
    );
    expect(promoted.FunctionVersion).toBe('2');
    expect(promoted.RoutingConfig).toBeUndefined();

    const read = await client.send(new GetAliasCommand({ FunctionName: 'shift', Name: 'live' }));
    expect(read).toMatchObject({ FunctionVersion: '2', RevisionId: promoted.RevisionId });
    const viaAlias = await client.send(new GetFunctionCommand({ FunctionName: 'shift', Qualifier: 'live' }));
    expect(viaAlias.Configuration).toMatchObject({ Version: '2', FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shift:live' });
  });

  it('refuses an UpdateAlias with a stale RevisionId and leaves the alias as it was', async () => {
    const [v1, v2] = await functionWithTwoVersions(client, 'race');
    const created = await client.send(new CreateAliasCommand({ FunctionName: 'race', Name: 'live', FunctionVersion: v1 }));
    // The first deployer moves the alias; the second still holds the old revision.
    const moved = await client.send(
      new UpdateAliasCommand({
        FunctionName: 'race',
        Name: 'live',
        RevisionId: created.RevisionId,
        RoutingConfig: { AdditionalVersionWeights: { [v2]: 0.1 } },
      }),
    );
    const loser = await client
      .send(new UpdateAliasCommand({ FunctionName: 'race', Name: 'live', RevisionId: created.RevisionId, FunctionVersion: v2, RoutingConfig: {} }))
      .catch((e: unknown) => e);
    expect(loser).toBeInstanceOf(PreconditionFailedException);
    expect((loser as PreconditionFailedException).$metadata.httpStatusCode).toBe(412);
    const read = await client.send(new GetAliasCommand({ FunctionName: 'race', Name: 'live' }));
    expect(read).toMatchObject({ FunctionVersion: '1', RevisionId: moved.RevisionId, RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } });
  });

  it('lets exactly one of several concurrent updates holding the same RevisionId through', async () => {
    const [v1, v2] = await functionWithTwoVersions(client, 'contended');
    const created = await client.send(new CreateAliasCommand({ FunctionName: 'contended', Name: 'live', FunctionVersion: v1 }));
    const weights = [0.1, 0.2, 0.3, 0.4, 0.5];
    const results = await Promise.allSettled(
      weights.map((weight) =>
        client.send(
          new UpdateAliasCommand({
            FunctionName: 'contended',
            Name: 'live',
            RevisionId: created.RevisionId,
            RoutingConfig: { AdditionalVersionWeights: { [v2]: weight } },
          }),
        ),
      ),
    );
    const winners = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const losers = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(4);
    for (const loser of losers) expect(loser).toBeInstanceOf(PreconditionFailedException);
    const read = await client.send(new GetAliasCommand({ FunctionName: 'contended', Name: 'live' }));
    expect(read).toMatchObject({ RevisionId: winners[0].RevisionId, RoutingConfig: winners[0].RoutingConfig });
  });

  it('refuses routing Lambda does not allow: $LATEST, the primary itself, a missing version, a weight above 1', async () => {
    const [v1, v2] = await functionWithTwoVersions(client, 'rules');
    const onLatest = await client
      .send(
        new CreateAliasCommand({ FunctionName: 'rules', Name: 'a', FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { [v2]: 0.5 } } }),
      )
      .catch((e: unknown) => e);
    expect(onLatest).toBeInstanceOf(InvalidParameterValueException);
    const self = await client
      .send(new CreateAliasCommand({ FunctionName: 'rules', Name: 'a', FunctionVersion: v1, RoutingConfig: { AdditionalVersionWeights: { [v1]: 0.5 } } }))
      .catch((e: unknown) => e);
    expect(self).toBeInstanceOf(InvalidParameterValueException);
    const missing = await client.send(new CreateAliasCommand({ FunctionName: 'rules', Name: 'a', FunctionVersion: '9' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    const heavy = await client
      .send(new CreateAliasCommand({ FunctionName: 'rules', Name: 'a', FunctionVersion: v1, RoutingConfig: { AdditionalVersionWeights: { [v2]: 1.5 } } }))
      .catch((e: unknown) => e);
    expect(heavy).toMatchObject({ name: 'ValidationException' });
    const numeric = await client.send(new CreateAliasCommand({ FunctionName: 'rules', Name: '42', FunctionVersion: v1 })).catch((e: unknown) => e);
    expect(numeric).toMatchObject({ name: 'ValidationException' });
    const { Aliases } = await client.send(new ListAliasesCommand({ FunctionName: 'rules' }));
    expect(Aliases).toEqual([]);

    await client.send(new CreateAliasCommand({ FunctionName: 'rules', Name: 'a', FunctionVersion: v1 }));
    const duplicate = await client.send(new CreateAliasCommand({ FunctionName: 'rules', Name: 'a', FunctionVersion: v2 })).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ResourceConflictException);
  });

  it('lists aliases (filtered by version) and deletes one; deleting it again succeeds', async () => {
    const [v1, v2] = await functionWithTwoVersions(client, 'listed');
    await client.send(new CreateAliasCommand({ FunctionName: 'listed', Name: 'prod', FunctionVersion: v1 }));
    await client.send(new CreateAliasCommand({ FunctionName: 'listed', Name: 'beta', FunctionVersion: v2 }));
    const all = await client.send(new ListAliasesCommand({ FunctionName: 'listed' }));
    expect(all.Aliases!.map((a) => a.Name)).toEqual(['beta', 'prod']);
    const onV1 = await client.send(new ListAliasesCommand({ FunctionName: 'listed', FunctionVersion: v1 }));
    expect(onV1.Aliases!.map((a) => a.Name)).toEqual(['prod']);

    const deleted = await client.send(new DeleteAliasCommand({ FunctionName: 'listed', Name: 'beta' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    await expect(client.send(new DeleteAliasCommand({ FunctionName: 'listed', Name: 'beta' }))).resolves.toBeDefined();
    const gone = await client.send(new GetAliasCommand({ FunctionName: 'listed', Name: 'beta' })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
    expect((gone as Error).message).toBe('Alias not found: arn:aws:lambda:us-east-1:000000000000:function:listed:beta');
  });

  it('answers an unknown route with a 404 naming the served operations', async () => {
    const response = await fetch(`${emulator.url}/2015-03-31/functions/checkout/policy`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(((await response.json()) as { message: string }).message).toContain('UpdateAlias');
    expect(((await (await fetch(`${emulator.url}/2015-03-31/functions/checkout/policy`)).json()) as { message: string }).message).toContain('Invoke');
  });

  it('keeps functions, versions and aliases (with their revisions) across a restart, in 0600 files', async () => {
    const [v1, v2] = await functionWithTwoVersions(client, 'durable');
    const alias = await client.send(
      new CreateAliasCommand({ FunctionName: 'durable', Name: 'live', FunctionVersion: v1, RoutingConfig: { AdditionalVersionWeights: { [v2]: 0.25 } } }),
    );
    client.destroy();
    await emulator.stop();

    const files = await readdir(join(dataDir, 'functions'));
    expect((await stat(join(dataDir, 'functions', files[0]))).mode & 0o777).toBe(0o600);

    emulator = await startLambdaEmulator({ dataDir });
    client = clientFor(emulator);
    const read = await client.send(new GetAliasCommand({ FunctionName: 'durable', Name: 'live' }));
    expect(read).toMatchObject({ FunctionVersion: '1', RevisionId: alias.RevisionId, RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    const { Versions } = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'durable' }));
    expect(Versions!.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    // Version numbers are never reused after a restart.
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'durable', ZipFile: zipArchive('durable-3') }));
    expect((await client.send(new PublishVersionCommand({ FunctionName: 'durable' }))).Version).toBe('3');
  });

  it('invokes a function the host runs (RequestResponse): its answer, or its throw as a function error; any other is not found', async () => {
    emulator.host('executor', async (event) => {
      const { fail } = event as { fail?: boolean };
      if (fail) throw Object.assign(new Error('the action failed'), { name: 'TransientError' });
      return { echoed: event };
    });
    const call = (name: string, payload: unknown) =>
      client.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    const text = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes));

    const answered = await call('executor', { runId: 'r1' });
    expect([answered.StatusCode, answered.FunctionError, answered.ExecutedVersion]).toEqual([200, undefined, '$LATEST']);
    expect(text(answered.Payload)).toEqual({ echoed: { runId: 'r1' } });
    const failed = await call(`arn:aws:lambda:us-east-1:000000000000:function:executor`, { fail: true });
    expect([failed.StatusCode, failed.FunctionError]).toEqual([200, 'Unhandled']);
    expect(text(failed.Payload)).toMatchObject({ errorType: 'TransientError', errorMessage: 'the action failed' });

    await expect(call('not-hosted', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(call('executor:1', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'executor', InvocationType: 'Event', Payload: new TextEncoder().encode('{}') })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
  });
});
