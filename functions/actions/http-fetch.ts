import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ActionFailed, BudgetExceeded, InjectionSuspected, MaestroError, VerificationFailed } from '../core/errors.ts';
import { checkEgress, ssrfBlocked } from '../core/egress/check-egress.ts';
import { screenText } from '../core/egress/screen-text.ts';
import type { EgressServices } from '../core/egress/services.ts';
import type { Action, ActionContext } from '../core/actions/contract.ts';
import { compileResponseSchema } from './http-fetch/response-schema.ts';

const HttpFetchParams = z.strictObject({
  /** An https URL (http only where the environment allows it) of a registered, licensed source. */
  url: z.string().min(1).max(2048),
  /** What the response must be; anything else fails the task. */
  expect: z
    .strictObject({
      /** Accepted statuses. @default any 2xx */
      status: z.array(z.number().int().min(100).max(599)).min(1).max(20).optional(),
      /** `json`: the body must parse as JSON (and match `schema` when given). @default 'text' */
      format: z.enum(['json', 'text']).optional(),
      /** A JSON Schema the parsed JSON body must match. */
      schema: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  /** Byte budget of this fetch (at most the environment's ceiling). @default the ceiling */
  maxBytes: z.number().int().min(1).optional(),
  /** Time budget of this fetch, redirects included (at most the ceiling). @default the ceiling */
  timeoutMs: z.number().int().min(1).optional(),
  /** What instruction-like content in the body does: `flag` records it in the outcome; `fail` refuses. @default 'flag' */
  onInjection: z.enum(['flag', 'fail']).optional(),
});
type HttpFetchParams = z.infer<typeof HttpFetchParams>;

/** The part of the body kept in the outcome (the hash covers all of it). */
const KEPT_BODY_BYTES = 16 * 1024;

function egressOf(ctx: ActionContext): EgressServices {
  if (!ctx.egress) throw new ActionFailed('http.fetch needs the egress services, and this process has none configured');
  return ctx.egress;
}

/**
 * GET one URL of a licensed source through the egress guard. Plan decides without connecting (guard,
 * license, budgets); apply fetches, within the run's request/byte/time budgets and the host's circuit
 * breaker, validates the response, and returns it with provenance (URL, time, SHA-256, source, license).
 */
export const httpFetch: Action<HttpFetchParams> = {
  name: 'http.fetch',
  version: '1.0.0',
  description: 'Fetches a URL of a licensed source through the egress guard, within budgets, with provenance.',
  safety: { category: 'READ', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internet' } },
  // Every request (and redirect hop) runs in the sandbox; the per-run budgets and the breaker stay here.
  confinesOwnRequests: true,
  schema: HttpFetchParams,
  // A URL is governed by the egress guard and the license registry (checked in plan), not by managedResources.
  // Anything but an http(s) URL names no resource: the egress guard refuses it in plan (SsrfBlocked).
  resources: (params) => (/^https?:\/\//i.test(params.url) ? [{ uri: params.url, access: 'read' }] : []),
  examples: [
    {
      description: 'Fetch a licensed JSON document and check its shape',
      params: { url: 'https://api.example.com/status.json', expect: { format: 'json', schema: { type: 'object' } } },
    },
    { description: 'Fetch text and refuse instruction-like content', params: { url: 'https://api.example.com/notes.txt', onInjection: 'fail' } },
  ],

  async plan(params, ctx) {
    const egress = egressOf(ctx);
    const decision = await checkEgress(params.url, egress.policy, egress.resolve);
    if (!decision.allowed) throw ssrfBlocked(decision, 'url');
    const source = egress.licenses.require(decision.url!);
    if (params.expect?.schema) compileResponseSchema(params.expect.schema, 'expect.schema');
    const maxBytes = params.maxBytes ?? egress.limits.maxBytesPerFetch;
    const timeoutMs = params.timeoutMs ?? egress.limits.maxTimeMsPerFetch;
    if (maxBytes > egress.limits.maxBytesPerFetch) {
      throw new BudgetExceeded(`maxBytes ${maxBytes} is above this environment's ceiling of ${egress.limits.maxBytesPerFetch}`, { field: 'maxBytes' });
    }
    if (timeoutMs > egress.limits.maxTimeMsPerFetch) {
      throw new BudgetExceeded(`timeoutMs ${timeoutMs} is above this environment's ceiling of ${egress.limits.maxTimeMsPerFetch}`, { field: 'timeoutMs' });
    }
    return {
      summary: `GET ${decision.url} (source ${source.id}, ${source.license})`,
      change: 'read',
      resource: decision.url!,
      diff: '',
      preconditions: {},
      data: {
        url: decision.url,
        source: source.id,
        maxBytes,
        timeoutMs,
        expect: params.expect ?? {},
        onInjection: params.onInjection ?? 'flag',
        resolvedAddresses: decision.resolvedAddresses,
      },
    };
  },

  async apply(plan, ctx) {
    const egress = egressOf(ctx);
    const url = String(plan.data.url);
    const expect = (plan.data.expect ?? {}) as NonNullable<HttpFetchParams['expect']>;
    const source = egress.licenses.require(url);
    egress.budgets.assertHeadroom(ctx.runId);
    const host = new URL(url).host;
    egress.breaker.admit(host);

    const started = performance.now();
    const maxBytes = Math.min(Number(plan.data.maxBytes), egress.budgets.remainingBytes(ctx.runId));
    const timeoutMs = Math.min(Number(plan.data.timeoutMs), egress.budgets.remainingTimeMs(ctx.runId));
    let response;
    try {
      response = await egress.http.get(url, {
        policy: egress.policy,
        resolve: egress.resolve,
        maxBytes,
        timeoutMs,
        signal: ctx.signal,
        beforeRequest: (decision) => {
          // A redirect may lead to another source: it must be licensed too.
          egress.licenses.require(decision.url!, 'url');
          egress.budgets.chargeRequest(ctx.runId);
        },
      });
    } catch (error) {
      egress.budgets.record(ctx.runId, { bytes: 0, timeMs: Math.round(performance.now() - started) });
      if (isHostFailure(error)) egress.breaker.failed(host);
      else egress.breaker.released(host);
      throw error;
    }
    egress.budgets.record(ctx.runId, { bytes: response.body.length, timeMs: Math.round(performance.now() - started) });
    if (response.status >= 500) {
      egress.breaker.failed(host);
      throw new ActionFailed(`${url} answered ${response.status}`, { details: { status: response.status } });
    }
    egress.breaker.succeeded(host);

    const accepted = expect.status ? expect.status.includes(response.status) : response.status >= 200 && response.status < 300;
    if (!accepted)
      throw new ActionFailed(`${url} answered ${response.status}, expected ${expect.status?.join(' or ') ?? 'a 2xx status'}`, {
        details: { status: response.status },
      });

    const text = response.body.toString('utf8');
    if (expect.format === 'json' || expect.schema) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ActionFailed(`${url} did not answer JSON`, { field: 'expect.format' });
      }
      if (expect.schema) {
        const result = compileResponseSchema(expect.schema, 'expect.schema').safeParse(parsed);
        if (!result.success) {
          const issue = result.error.issues[0];
          throw new ActionFailed(`the response of ${url} does not match expect.schema: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
            field: 'expect.schema',
            details: { issues: result.error.issues.slice(0, 10) },
          });
        }
      }
    }

    const screening = screenText(text);
    if (screening.flagged && plan.data.onInjection === 'fail') {
      throw new InjectionSuspected(`the response of ${url} looks like instructions (${[...new Set(screening.findings.map((f) => f.rule))].join(', ')})`, {
        details: { findings: screening.findings.slice(0, 5) },
      });
    }
    const contentType = response.headers['content-type'];
    return {
      provenance: {
        url,
        finalUrl: response.url,
        fetchedAt: new Date().toISOString(),
        sha256: createHash('sha256').update(response.body).digest('hex'),
        bytes: response.body.length,
        source: source.id,
        license: source.license,
        ...(source.attribution ? { attribution: source.attribution } : {}),
        address: response.address,
        hops: response.hops,
      },
      status: response.status,
      contentType: typeof contentType === 'string' ? contentType : undefined,
      body: response.body.length <= KEPT_BODY_BYTES ? text : undefined,
      truncated: response.body.length > KEPT_BODY_BYTES,
      screening: { flagged: screening.flagged, findings: screening.findings.slice(0, 5) },
    };
  },

  async verify(_plan, outcome) {
    const provenance = outcome.provenance as { sha256?: string } | undefined;
    if (!provenance?.sha256) throw new VerificationFailed('the fetch recorded no provenance hash');
    if (typeof outcome.body === 'string' && createHash('sha256').update(outcome.body, 'utf8').digest('hex') !== provenance.sha256) {
      throw new VerificationFailed('the stored body does not match its recorded SHA-256');
    }
  },

  async rollback() {
    // A read changes nothing.
  },
};

/** Failures that say something about the host (network, timeout) and count toward its circuit breaker. */
function isHostFailure(error: unknown): boolean {
  if (!(error instanceof MaestroError)) return true;
  if (error instanceof ActionFailed) return error.details?.network === true;
  if (error instanceof BudgetExceeded) return error.details?.budget === 'timeMs';
  return false;
}
