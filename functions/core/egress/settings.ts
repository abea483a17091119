import * as z from 'zod';
import { isAddressRange } from './classify-address.ts';

/** `MAESTRO_EGRESS_STATIC_HOSTS`: names answered before DNS, like /etc/hosts (`{"canary.test": ["127.0.0.1"]}`). */
export const StaticHosts = z.record(
  z.string().regex(/^[a-z0-9.-]{1,253}$/, 'must be a lowercase host name'),
  z
    .array(z.string().refine((value) => isAddressRange(value) && !value.includes('/'), 'must be an IP address'))
    .min(1)
    .max(16),
);
export type StaticHosts = z.infer<typeof StaticHosts>;

/**
 * A zod schema for an environment variable holding JSON: parses it, validates it with `schema`, and
 * reports a bad value as an issue on the variable (the handler configuration names the key).
 */
export function jsonVariable<T extends z.ZodType>(schema: T, fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx): z.infer<T> => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
        return z.NEVER;
      }
      return parsed.data;
    });
}
