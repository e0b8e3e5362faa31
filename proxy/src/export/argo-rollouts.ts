export function renderArgoRollouts(..._args: unknown[]): string {
  throw new Error('not yet');
}
