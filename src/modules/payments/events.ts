import { z } from 'zod';
import { defineEvent } from '../../platform/bus/define-event.ts';

const base = { orderId: z.string(), customerId: z.string() };
export const PaymentCaptured = defineEvent('PaymentCaptured', 1, z.object({ ...base, amountMinor: z.number().int(), currency: z.string() }), 'Money was taken for an order');
export const PaymentRefunded = defineEvent('PaymentRefunded', 1, z.object({ ...base, amountMinor: z.number().int(), currency: z.string() }), 'Money was given back for an order');
export const PaymentDeclinedEvent = defineEvent('PaymentDeclined', 1, z.object({ ...base, reason: z.string() }), 'The provider refused a charge');
