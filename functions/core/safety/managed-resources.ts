import { parseResource } from '../actions/resources.ts';
import type { ParsedResource, ResourceRef } from '../actions/resources.ts';
import type { Guardrails } from '../config/guardrails.ts';
import { ownResourceByPattern } from '../config/managed-resources.ts';
import type { ManagedResources } from '../config/managed-resources.ts';
import { ResourceNotManaged } from '../errors.ts';

/** Maestro's own resources in this deployment, as the composition root knows them. */
export interface OwnResources {
  /** The state table: refused, and its prefix (before `maestro-state`) is the prefix managed table names are read with. */
  stateTable?: string;
  /** The artifact vault. */
  artifactBucket?: string;
  /** Any other names of Maestro's own (key ids and aliases, bus, queues) the patterns may not cover. */
  names?: readonly string[];
}

const STATE_TABLE_SUFFIX = 'maestro-state';

/** `run-1a2b3c-` for the state table `run-1a2b3c-maestro-state` (the embedded stack's `tablePrefix`); '' otherwise. */
export function tablePrefixOf(stateTable: string | undefined): string {
  return stateTable?.endsWith(STATE_TABLE_SUFFIX) ? stateTable.slice(0, -STATE_TABLE_SUFFIX.length) : '';
}

/** A resource kind the environment's `managedResources` governs: where it is declared, and whether a declaration covers a resource. */
interface ManagedKind {
  configKey: keyof ManagedResources;
  /** The resource's name as Maestro's own resources are named (bucket, table). */
  nameOf(resource: ParsedResource): string | undefined;
  covers(managed: ManagedResources, resource: ParsedResource, own: OwnResources): boolean;
}

const MANAGED_KINDS = new Map<string, ManagedKind>([
  [
    's3',
    {
      configKey: 'buckets',
      nameOf: (resource) => resource.bucket,
      covers: (managed, resource) =>
        managed.buckets.some((bucket) =>
          typeof bucket === 'string'
            ? bucket === resource.bucket
            : bucket.name === resource.bucket && (!bucket.prefixes || bucket.prefixes.some((prefix) => resource.key!.startsWith(prefix))),
        ),
    },
  ],
  [
    'dynamodb',
    {
      configKey: 'tables',
      nameOf: (resource) => resource.table,
      covers: (managed, resource, own) => {
        const prefix = tablePrefixOf(own.stateTable);
        return managed.tables.some((table) => table === resource.table || (prefix !== '' && `${prefix}${table}` === resource.table));
      },
    },
  ],
  [
    'lambda',
    {
      configKey: 'functions',
      nameOf: (resource) => resource.function ?? resource.id,
      covers: (managed, resource) => resource.function !== undefined && managed.functions.includes(resource.function),
    },
  ],
  [
    'ssm',
    {
      configKey: 'parameters',
      nameOf: (resource) => resource.parameter ?? resource.id,
      // An entry ending in / is a path prefix (`/app/` covers `/app/flag`); any other names one parameter.
      covers: (managed, resource) =>
        resource.parameter !== undefined &&
        managed.parameters.some((entry) => (entry.endsWith('/') ? resource.parameter!.startsWith(entry) : entry === resource.parameter)),
    },
  ],
  [
    'cloudwatch-alarm',
    {
      configKey: 'alarms',
      nameOf: (resource) => resource.alarm ?? resource.id,
      covers: (managed, resource) => resource.alarm !== undefined && managed.alarms.includes(resource.alarm),
    },
  ],
]);

/** The kinds an environment's `managedResources` can declare (what a pack's action may touch besides URLs). */
export const MANAGED_RESOURCE_KINDS: readonly string[] = [...MANAGED_KINDS.keys()];

/**
 * Kinds another guard governs, each in its own terms: URLs by the egress guard and license registry
 * (http.fetch's plan), restore jobs and DR targets' traffic pointers (`dr://<target>`, what a restore
 * approval's plan names) by the DR restore gate, `none` touches nothing.
 */
const GOVERNED_ELSEWHERE: ReadonlySet<string> = new Set(['url', 'dr-restore', 'dr', 'none']);

function ownResource(resource: ParsedResource, own: OwnResources): string | undefined {
  const names = [resource.bucket, resource.table, resource.function, resource.parameter, resource.alarm].filter((name): name is string => name !== undefined);
  for (const name of names) {
    if (name === own.stateTable) return "Maestro's state table";
    if (name === own.artifactBucket) return "Maestro's artifact vault";
    if (own.names?.includes(name)) return "one of Maestro's own resources";
    const byPattern = ownResourceByPattern(name);
    if (byPattern) return byPattern;
  }
  return undefined;
}

/**
 * Every resource must be declared by the run's environment, and none may be Maestro's own (whatever
 * the configuration says). Pure: no I/O, so it runs before an action's plan reads anything.
 */
export function assertManagedResources(input: {
  guardrails: Guardrails;
  own?: OwnResources;
  environment: string;
  resources: readonly ResourceRef[];
  /** `parseResource` of each resource's URI, in the same order, when the caller has it already. */
  parsed?: readonly ParsedResource[];
}): void {
  const own = input.own ?? {};
  const environments = input.guardrails.environments;
  const managed = Object.hasOwn(environments, input.environment) ? environments[input.environment].managedResources : undefined;
  for (const [index, ref] of input.resources.entries()) {
    const resource = input.parsed?.[index] ?? parseResource(ref.uri);
    const refuse = (message: string) => {
      throw new ResourceNotManaged(message, { details: { resource: ref.uri, access: ref.access, kind: resource.kind, environment: input.environment } });
    };
    if (GOVERNED_ELSEWHERE.has(resource.kind)) continue;
    const kind = MANAGED_KINDS.get(resource.kind);
    if (!kind) refuse(`${ref.uri} is of kind "${resource.kind}", which no environment can declare as managed`);
    const isOwn = ownResource(resource, own);
    if (isOwn) refuse(`${ref.uri} is ${isOwn}: no action may ${ref.access} it`);
    if (!managed || !kind!.covers(managed, resource, own)) {
      refuse(
        `${ref.uri} is not a managed resource of ${input.environment}: declare ${kind!.nameOf(resource)} under environments.${input.environment}.managedResources.${kind!.configKey}`,
      );
    }
  }
}
