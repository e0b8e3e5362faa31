import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { route } from '../../../platform/http/route.ts';
import { requireCaller } from '../../../platform/auth/caller.ts';
import type { PaymentsDeps } from '../app/payments-deps.ts';
import { getAccount } from '../app/get-account.ts';

const AccountQuery = z.strictObject({
  at: z
    .string()
    .datetime({ offset: true, message: 'must be an ISO 8601 timestamp, e.g. 2026-01-31T12:00:00Z' })
    .refine((v) => Date.parse(v) >= Date.UTC(1970, 0, 1) && Date.parse(v) < Date.UTC(10000, 0, 1), 'must lie between 1970 and 9999')
    .optional()
    .meta({ description: 'The account as it was at this moment (default: now)' }),
});
const Account = z.object({
  customerId: z.string(),
  capturedMinor: z.number().int(),
  refundedMinor: z.number().int(),
  netMinor: z.number().int(),
  payments: z.number().int().nonnegative().meta({ description: 'Payments captured or refunded so far' }),
  version: z.number().int().nonnegative(),
  asOf: z.string(),
})

export function paymentsRoutes(deps: PaymentsDeps): Router {
  const r = strictRouter();
  // Customers see only their own account: "me" is the token's subject, never a parameter.
  route(r, {
    method: 'get',
    path: '/api/v1/accounts/me',
    summary: 'The caller’s payment account: captured, refunded, net',
    query: AccountQuery,
    responses: { 200: { description: 'The account, now or as it was at `at`', body: Account } },
    handler: async ({ query }, res) => {
      const caller = requireCaller();
      res.json(await getAccount(deps, caller.sub, query.at ? new Date(query.at) : undefined));
    },
  });
  return r;
}
