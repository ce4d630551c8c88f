/**
 * EphemeralType: how ZooKeeper 3.8 overloads a znode's ephemeralOwner.
 *
 * - 0: an ordinary persistent node (VOID).
 * - Long.MIN_VALUE (0x8000000000000000): a container node.
 * - 0xFF00_0000_0000_0000 | ttl (ttl < 2^40): a TTL node, but only while
 *   zookeeper.extendedTypesEnabled is true. With it false (ZooKeeper's default) such
 *   an owner is just a NORMAL ephemeral owner, like any other non-zero value.
 * - anything else: the session id owning an ephemeral node (NORMAL).
 *
 * With zookeeper.emulate353TTLNodes (and extended types) any negative owner other
 * than Long.MIN_VALUE is also a TTL node, as ZooKeeper 3.5.3 encoded them.
 *
 * Owners are signed 64-bit bigints, as the generated records carry them.
 */

/** The kinds EphemeralType.get distinguishes. */
export type EphemeralKind = 'VOID' | 'NORMAL' | 'CONTAINER' | 'TTL';

/** The two system properties EphemeralType reads; both false by default, as in ZooKeeper. */
export interface EphemeralTypeOptions {
  /** zookeeper.extendedTypesEnabled: TTL nodes exist (createTTL is otherwise refused by prep). */
  readonly extendedTypesEnabled: boolean;
  /** zookeeper.emulate353TTLNodes: also read 3.5.3-style TTL owners. */
  readonly emulate353TTLNodes: boolean;
}

/** ZooKeeper's defaults: no extended types. */
export const DEFAULT_EPHEMERAL_TYPE_OPTIONS: EphemeralTypeOptions = {
  extendedTypesEnabled: false,
  emulate353TTLNodes: false,
};

/** EphemeralType.CONTAINER_EPHEMERAL_OWNER = Long.MIN_VALUE. */
export const CONTAINER_EPHEMERAL_OWNER = -(1n << 63n);

const EXTENDED_MASK = 0xff00_0000_0000_0000n;
const EXTENDED_BIT_TTL = 0x0000n;
const RESERVED_BITS_MASK = 0x00ff_ff00_0000_0000n;
const RESERVED_BITS_SHIFT = 40n;
const EXTENDED_FEATURE_VALUE_MASK = 0x0000_00ff_ffff_ffffn;

/** The longest TTL a TTL node can have: 2^40 - 1 ms (about 34 years). */
export const TTL_MAX = Number(EXTENDED_FEATURE_VALUE_MASK);

/** Raised where EphemeralType throws IllegalArgumentException. */
export class EphemeralTypeError extends Error {
  override name = 'EphemeralTypeError';
}

/**
 * EphemeralType.get(ephemeralOwner). Throws EphemeralTypeError, as ZooKeeper does, for
 * an owner with all of the top byte set but unknown feature bits while extended types
 * are enabled.
 */
export function ephemeralKindOf(owner: bigint, options: EphemeralTypeOptions): EphemeralKind {
  if (options.extendedTypesEnabled) {
    if (options.emulate353TTLNodes && owner !== CONTAINER_EPHEMERAL_OWNER && owner < 0n) {
      return 'TTL';
    }
    const u = BigInt.asUintN(64, owner);
    if ((u & EXTENDED_MASK) === EXTENDED_MASK) {
      const feature = (u & RESERVED_BITS_MASK) >> RESERVED_BITS_SHIFT;
      if (feature === EXTENDED_BIT_TTL) return 'TTL';
      throw new EphemeralTypeError(`Invalid ephemeralOwner. [${u.toString(16)}]`);
    }
  }
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'CONTAINER';
  return owner === 0n ? 'VOID' : 'NORMAL';
}

/**
 * EphemeralType.TTL.toEphemeralOwner(ttl): the owner that marks a TTL node. Throws
 * EphemeralTypeError unless 0 < ttl <= TTL_MAX (prep turns that into BadArguments).
 */
export function ttlToEphemeralOwner(ttl: number): bigint {
  if (!Number.isInteger(ttl) || ttl > TTL_MAX || ttl <= 0) {
    throw new EphemeralTypeError(`ttl must be positive and cannot be larger than: ${TTL_MAX}`);
  }
  return BigInt.asIntN(64, EXTENDED_MASK | EXTENDED_BIT_TTL | BigInt(ttl));
}

/** EphemeralType.TTL.getValue(owner): the TTL in ms held in a TTL node's owner (its low 40 bits). */
export function ttlOfEphemeralOwner(owner: bigint): number {
  return Number(BigInt.asUintN(64, owner) & EXTENDED_FEATURE_VALUE_MASK);
}

/**
 * The ephemeralOwner a client sees in a Stat (DataNode.getClientEphemeralOwner): the
 * stored owner for a NORMAL ephemeral, 0 for containers and TTL nodes (and persistent ones).
 */
export function clientEphemeralOwner(owner: bigint, options: EphemeralTypeOptions): bigint {
  return ephemeralKindOf(owner, options) === 'NORMAL' ? owner : 0n;
}
