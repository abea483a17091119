import * as z from 'zod';
import { actionView } from '../../core/actions/catalog-view.ts';
import { ActionNotFound } from '../../core/errors.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { json } from './http.ts';
import type { OperationRequest } from './operation-request.ts';

export const ActionNamePath = z.object({ name: z.string().min(1).max(128) });

/** The action catalog, readable by any authenticated role. */
export const catalogOperations = {
  /** `GET /actions`: every action with its safety, resource kinds, input JSON Schema and examples. */
  async listActions({ deps }: OperationRequest) {
    return json(200, { actions: deps.catalog.list().map((action) => actionView(action, deps.catalog.packOf(action.name))) });
  },

  /** `GET /actions/{name}`: one action; an unknown name is 404 ActionNotFound. */
  async getAction({ event, deps }: OperationRequest) {
    const { name } = parseOrThrow(ActionNamePath, event.pathParameters ?? {});
    const action = deps.catalog.find(name);
    if (!action) throw new ActionNotFound(`unknown action "${name}"; GET /actions lists them`, { field: 'name' });
    return json(200, { action: actionView(action, deps.catalog.packOf(action.name)) });
  },
};
