// Lambda's REST-JSON routes (API version 2015-03-31) for the calls the stand-in
// serves; anything else is an UnknownOperationException naming the routes.

import { lambdaError } from './lambda-errors.ts';
import type { LambdaOperation } from './lambda-context.ts';

interface Route {
  method: string;
  /** Literal segments, or {Param} for a path parameter. */
  segments: readonly string[];
  operationName: string;
  operation: LambdaOperation;
}

export interface MatchedRoute {
  operationName: string;
  operation: LambdaOperation;
  params: Map<string, string>;
}

export class RestRoutes {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, operationName: string, operation: LambdaOperation): this {
    this.#routes.push({ method, segments: pattern.split('/').filter(Boolean), operationName, operation });
    return this;
  }

  match(method: string, pathname: string): MatchedRoute {
    const segments = pathname.split('/').filter(Boolean);
    for (const route of this.#routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue;
      const params = new Map<string, string>();
      const matches = route.segments.every((expected, index) => {
        if (expected.startsWith('{') && expected.endsWith('}')) {
          params.set(expected.slice(1, -1), decodeSegment(segments[index]));
          return true;
        }
        return expected === segments[index];
      });
      if (matches) return { operationName: route.operationName, operation: route.operation, params };
    }
    const known = this.#routes.map((route) => `${route.method} /${route.segments.join('/')} (${route.operationName})`);
    throw lambdaError('UnknownOperationException', `No operation at ${method} ${pathname} in the local Lambda stand-in; it serves: ${known.join(', ')}`);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw lambdaError('ValidationException', `Path segment '${segment}' is not valid percent-encoding`);
  }
}
