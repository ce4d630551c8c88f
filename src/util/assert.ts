/**
 * Assertions that stay on in production (TigerStyle): a broken invariant stops the
 * operation loudly instead of corrupting state quietly.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, what = 'value'): never {
  throw new AssertionError(`unreachable: unexpected ${what} ${String(value)}`);
}
