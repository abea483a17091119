import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModification } from '../core/errors.ts';
import type { RunEvent } from '../core/runs/model.ts';
import type { TemplateDefinition, TemplateStore, TemplateVersion } from '../core/templates/template-model.ts';
import { DynamoJournal, withRetries } from './dynamo-journal.ts';

const pkOf = (name: string) => `TEMPLATE#${name}`;
const versionSk = (version: number) => `VERSION#${String(version).padStart(10, '0')}`;

function versionOf(item: Record<string, unknown>): TemplateVersion {
  return {
    definition: item.definition as TemplateDefinition,
    version: Number(item.version),
    digest: String(item.digest),
    createdBy: String(item.createdBy),
    createdAt: String(item.createdAt),
  };
}

/** Template versions in the state table (`pk = TEMPLATE#<name>`): immutable versions, a head with the latest, and an audit journal. */
export class DynamoTemplateStore implements TemplateStore {
  readonly #journal: DynamoJournal;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#journal = new DynamoJournal(options);
  }

  put(input: Parameters<TemplateStore['put']>[0]): Promise<{ version: TemplateVersion; created: boolean }> {
    const pk = pkOf(input.definition.name);
    return withRetries(async () => {
      const head = await this.#journal.head(pk);
      if (head && head.digest === input.digest) return { version: versionOf(head), created: false };
      const version: TemplateVersion = {
        definition: input.definition,
        version: Number(head?.version ?? 0) + 1,
        digest: input.digest,
        createdBy: input.actor,
        createdAt: input.now.toISOString(),
      };
      const written = await this.#journal.append({
        pk,
        head,
        next: { entity: 'TemplateHead', gsi1pk: 'TEMPLATES', gsi1sk: input.definition.name, ...version },
        draft: {
          type: head ? 'TemplateChanged' : 'TemplateCreated',
          actor: input.actor,
          message: `${input.actor} ${head ? 'changed' : 'created'} template ${input.definition.name}: version ${version.version}`,
          payload: { name: input.definition.name, version: version.version, digest: input.digest, previousDigest: head?.digest },
        },
        correlationId: input.correlationId,
        now: input.now,
        extra: [
          {
            Put: {
              TableName: this.#journal.table,
              Item: { pk, sk: versionSk(version.version), entity: 'TemplateVersion', ...version },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      });
      if (!written) throw new ConcurrentModification(`template ${input.definition.name} changed at the same time`);
      return { version, created: true };
    });
  }

  async get(name: string, version?: number): Promise<TemplateVersion | undefined> {
    const item = version === undefined ? await this.#journal.head(pkOf(name)) : await this.#journal.getItem(pkOf(name), versionSk(version));
    return item ? versionOf(item) : undefined;
  }

  async list(): Promise<TemplateVersion[]> {
    return (await this.#journal.byIndex('TEMPLATES')).map(versionOf);
  }

  listEvents(name: string): Promise<RunEvent[]> {
    return this.#journal.events(pkOf(name));
  }
}
