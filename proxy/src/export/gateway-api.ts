export function renderGatewayApi(..._args: unknown[]): string {
  throw new Error('not yet');
}
