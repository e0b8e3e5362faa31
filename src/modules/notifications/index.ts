// Notifications: the bounded context of telling people things. It reacts to other modules'
// events (choreography) and keeps the messages it would send; it calls no one.
import { defineManifest } from '../../platform/modules/manifest.ts';
import { OrderCancelled, OrderConfirmed } from '../orders/index.ts';
import { PaymentRefunded } from '../payments/index.ts';
import { LowStock } from '../inventory/index.ts';

export const notificationsManifest = defineManifest({
  name: 'notifications',
  purpose: 'Telling people things: messages for customers and operators, from events',
  publishes: [],
  subscribes: [OrderConfirmed, OrderCancelled, PaymentRefunded, LowStock],
  dependsOn: [],
  publicPaths: ['/api/v1/customers/me/notifications', '/api/v1/notifications'],
});
