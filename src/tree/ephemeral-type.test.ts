import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTAINER_EPHEMERAL_OWNER, EphemeralTypeError, TTL_MAX, clientEphemeralOwner, ephemeralKindOf, ttlOfEphemeralOwner, ttlToEphemeralOwner } from './ephemeral-type.js';

const EXT = { extendedTypesEnabled: true, emulate353TTLNodes: false };
const STD = { extendedTypesEnabled: false, emulate353TTLNodes: false };

describe('EphemeralType', () => {
  it('encodes TTLs as 0xFF << 56 | ttl', () => {
    assert.equal(BigInt.asUintN(64, ttlToEphemeralOwner(1000)), 0xff000000000003e8n);
    assert.equal(ttlOfEphemeralOwner(ttlToEphemeralOwner(TTL_MAX)), TTL_MAX);
    assert.throws(() => ttlToEphemeralOwner(0), EphemeralTypeError);
    assert.throws(() => ttlToEphemeralOwner(TTL_MAX + 1), EphemeralTypeError);
  });

  it('classifies owners, TTL only with extended types', () => {
    assert.equal(ephemeralKindOf(0n, STD), 'VOID');
    assert.equal(ephemeralKindOf(5n, STD), 'NORMAL');
    assert.equal(ephemeralKindOf(CONTAINER_EPHEMERAL_OWNER, STD), 'CONTAINER');
    assert.equal(ephemeralKindOf(ttlToEphemeralOwner(5), STD), 'NORMAL');
    assert.equal(ephemeralKindOf(ttlToEphemeralOwner(5), EXT), 'TTL');
    assert.throws(() => ephemeralKindOf(BigInt.asIntN(64, 0xff01000000000005n), EXT), EphemeralTypeError);
    assert.equal(ephemeralKindOf(-5n, { extendedTypesEnabled: true, emulate353TTLNodes: true }), 'TTL');
    assert.equal(ephemeralKindOf(CONTAINER_EPHEMERAL_OWNER, { extendedTypesEnabled: true, emulate353TTLNodes: true }), 'CONTAINER');
  });

  it('shows clients 0 for containers and TTL nodes', () => {
    assert.equal(clientEphemeralOwner(CONTAINER_EPHEMERAL_OWNER, STD), 0n);
    assert.equal(clientEphemeralOwner(ttlToEphemeralOwner(5), EXT), 0n);
    assert.equal(clientEphemeralOwner(ttlToEphemeralOwner(5), STD), ttlToEphemeralOwner(5));
    assert.equal(clientEphemeralOwner(42n, EXT), 42n);
  });
});
