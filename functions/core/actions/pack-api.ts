/**
 * What a pack's code imports from Maestro, in one place: the contract, `definePack`, the resource URI
 * helpers, the ports' types and the errors an action throws. A pack depends on this module only, so
 * the contract it is written against is one file to read (docs/packs.md).
 */
export { definePack } from './pack.ts';
export type { PackDefinition } from './pack.ts';
export type { Action, ActionContext, ActionExample, ActionSafety } from './contract.ts';
export type { Item, ItemStore, ObjectStore } from './ports.ts';
export { dynamodbItemUri, dynamodbTableUri, s3ObjectUri } from './resources.ts';
export type { ResourceRef } from './resources.ts';
export type { TaskPlan } from '../runs/model.ts';
export { canonicalJson, sha256Hex } from '../canonical-json.ts';
export { ActionFailed, StalePlan, TransientError, VerificationFailed } from '../errors.ts';
