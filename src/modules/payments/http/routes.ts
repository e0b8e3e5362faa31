import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { parseOrThrow } from '../../../platform/errors/validation.ts';
import { requireCaller } from '../../../platform/auth/caller.ts';
import type { PaymentsDeps } from '../app/payments-deps.ts';
import { getAccount } from '../app/get-account.ts';

const AccountQuery = z.strictObject({
  at: z
    .string()
    .datetime({ offset: true, message: 'must be an ISO 8601 timestamp, e.g. 2026-01-31T12:00:00Z' })
    .refine((v) => Date.parse(v) >= Date.UTC(1970, 0, 1) && Date.parse(v) < Date.UTC(10000, 0, 1), 'must lie between 1970 and 9999')
    .optional(),
});

export function paymentsRoutes(deps: PaymentsDeps): Router {
  const r = strictRouter();
  // Customers see only their own account: "me" is the token's subject, never a parameter.
  r.get('/api/v1/accounts/me', async (req, res) => {
    const caller = requireCaller();
    const { at } = parseOrThrow(AccountQuery, req.query, 'query');
    res.json(await getAccount(deps, caller.sub, at ? new Date(at) : undefined));
  });
  return r;
}
