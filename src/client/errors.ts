/**
 * The client's errors: one KeeperException subclass per KeeperException.Code, as in the
 * Java client (NoNodeException, NodeExistsException, ConnectionLossException, ...), each
 * carrying the numeric `code`, its `codeName` ('NONODE') and the client path it concerns.
 * Messages are Java's ("KeeperErrorCode = NoNode for /a").
 *
 * Arguments the Java client rejects before sending anything (a bad path, a TTL on a mode
 * without one, mixed read and write ops in one multi) raise IllegalArgumentError, Java's
 * IllegalArgumentException.
 */
import { Err, errName, KeeperError } from '../jute/constants.js';
import type { OpResult } from './ops.js';

/** Java's KeeperException.getCodeMessage. */
const CODE_MESSAGES: ReadonlyMap<number, string> = new Map<number, string>([
  [Err.OK, 'ok'],
  [Err.SYSTEMERROR, 'SystemError'],
  [Err.RUNTIMEINCONSISTENCY, 'RuntimeInconsistency'],
  [Err.DATAINCONSISTENCY, 'DataInconsistency'],
  [Err.CONNECTIONLOSS, 'ConnectionLoss'],
  [Err.MARSHALLINGERROR, 'MarshallingError'],
  [Err.NEWCONFIGNOQUORUM, 'NewConfigNoQuorum'],
  [Err.RECONFIGINPROGRESS, 'ReconfigInProgress'],
  [Err.UNIMPLEMENTED, 'Unimplemented'],
  [Err.OPERATIONTIMEOUT, 'OperationTimeout'],
  [Err.BADARGUMENTS, 'BadArguments'],
  [Err.APIERROR, 'APIError'],
  [Err.NONODE, 'NoNode'],
  [Err.NOAUTH, 'NoAuth'],
  [Err.BADVERSION, 'BadVersion'],
  [Err.NOCHILDRENFOREPHEMERALS, 'NoChildrenForEphemerals'],
  [Err.NODEEXISTS, 'NodeExists'],
  [Err.INVALIDACL, 'InvalidACL'],
  [Err.AUTHFAILED, 'AuthFailed'],
  [Err.NOTEMPTY, 'Directory not empty'],
  [Err.SESSIONEXPIRED, 'Session expired'],
  [Err.INVALIDCALLBACK, 'Invalid callback'],
  [Err.SESSIONMOVED, 'Session moved'],
  [Err.NOTREADONLY, 'Not a read-only call'],
  [Err.EPHEMERALONLOCALSESSION, 'Ephemeral node on local session'],
  [Err.NOWATCHER, 'No such watcher'],
  [Err.RECONFIGDISABLED, 'Reconfig is disabled'],
  [Err.SESSIONCLOSEDREQUIRESASLAUTH, 'Session closed because client failed to authenticate'],
  [Err.QUOTAEXCEEDED, 'Quota has exceeded'],
  [Err.THROTTLEDOP, 'Op throttled due to high load'],
  [Err.REQUESTTIMEOUT, 'Request timeout'],
  [Err.UNKNOWNSESSION, 'Unknown session'],
]);

export function codeMessage(code: number): string {
  return CODE_MESSAGES.get(code) ?? `Unknown error ${code}`;
}

/**
 * A ZooKeeper error code as an exception. `instanceof KeeperException` (or the jute
 * layer's KeeperError) catches them all; the subclasses below name each code.
 */
export class KeeperException extends KeeperError {
  override name = 'KeeperException';
  /** The code's constant name: 'NONODE', 'CONNECTIONLOSS', ... */
  readonly codeName: string;
  /** For a failed multi: one result per op (the failing one, and the others' fate). */
  results: OpResult[] | undefined;

  constructor(code: number, path?: string, detail?: string) {
    super(code, path);
    this.codeName = errName(code);
    const base = path === undefined || path === '' ? `KeeperErrorCode = ${codeMessage(code)}` : `KeeperErrorCode = ${codeMessage(code)} for ${path}`;
    this.message = detail === undefined ? base : `${base}: ${detail}`;
  }
}

export class SystemErrorException extends KeeperException {
  override name = 'SystemErrorException';
}
export class RuntimeInconsistencyException extends KeeperException {
  override name = 'RuntimeInconsistencyException';
}
export class DataInconsistencyException extends KeeperException {
  override name = 'DataInconsistencyException';
}
export class ConnectionLossException extends KeeperException {
  override name = 'ConnectionLossException';
}
export class MarshallingErrorException extends KeeperException {
  override name = 'MarshallingErrorException';
}
export class UnimplementedException extends KeeperException {
  override name = 'UnimplementedException';
}
export class OperationTimeoutException extends KeeperException {
  override name = 'OperationTimeoutException';
}
export class BadArgumentsException extends KeeperException {
  override name = 'BadArgumentsException';
}
export class UnknownSessionException extends KeeperException {
  override name = 'UnknownSessionException';
}
export class NewConfigNoQuorumException extends KeeperException {
  override name = 'NewConfigNoQuorumException';
}
export class ReconfigInProgressException extends KeeperException {
  override name = 'ReconfigInProgressException';
}
export class APIErrorException extends KeeperException {
  override name = 'APIErrorException';
}
export class NoNodeException extends KeeperException {
  override name = 'NoNodeException';
}
export class NoAuthException extends KeeperException {
  override name = 'NoAuthException';
}
export class BadVersionException extends KeeperException {
  override name = 'BadVersionException';
}
export class NoChildrenForEphemeralsException extends KeeperException {
  override name = 'NoChildrenForEphemeralsException';
}
export class NodeExistsException extends KeeperException {
  override name = 'NodeExistsException';
}
export class NotEmptyException extends KeeperException {
  override name = 'NotEmptyException';
}
export class SessionExpiredException extends KeeperException {
  override name = 'SessionExpiredException';
}
export class InvalidCallbackException extends KeeperException {
  override name = 'InvalidCallbackException';
}
export class InvalidACLException extends KeeperException {
  override name = 'InvalidACLException';
}
export class AuthFailedException extends KeeperException {
  override name = 'AuthFailedException';
}
export class SessionMovedException extends KeeperException {
  override name = 'SessionMovedException';
}
export class NotReadOnlyException extends KeeperException {
  override name = 'NotReadOnlyException';
}
export class EphemeralOnLocalSessionException extends KeeperException {
  override name = 'EphemeralOnLocalSessionException';
}
export class NoWatcherException extends KeeperException {
  override name = 'NoWatcherException';
}
export class RequestTimeoutException extends KeeperException {
  override name = 'RequestTimeoutException';
}
export class ReconfigDisabledException extends KeeperException {
  override name = 'ReconfigDisabledException';
}
export class SessionClosedRequireAuthException extends KeeperException {
  override name = 'SessionClosedRequireAuthException';
}
export class QuotaExceededException extends KeeperException {
  override name = 'QuotaExceededException';
}
export class ThrottledOpException extends KeeperException {
  override name = 'ThrottledOpException';
}

type KeeperExceptionClass = new (code: number, path?: string, detail?: string) => KeeperException;

const CLASSES: ReadonlyMap<number, KeeperExceptionClass> = new Map<number, KeeperExceptionClass>([
  [Err.SYSTEMERROR, SystemErrorException],
  [Err.RUNTIMEINCONSISTENCY, RuntimeInconsistencyException],
  [Err.DATAINCONSISTENCY, DataInconsistencyException],
  [Err.CONNECTIONLOSS, ConnectionLossException],
  [Err.MARSHALLINGERROR, MarshallingErrorException],
  [Err.UNIMPLEMENTED, UnimplementedException],
  [Err.OPERATIONTIMEOUT, OperationTimeoutException],
  [Err.BADARGUMENTS, BadArgumentsException],
  [Err.UNKNOWNSESSION, UnknownSessionException],
  [Err.NEWCONFIGNOQUORUM, NewConfigNoQuorumException],
  [Err.RECONFIGINPROGRESS, ReconfigInProgressException],
  [Err.APIERROR, APIErrorException],
  [Err.NONODE, NoNodeException],
  [Err.NOAUTH, NoAuthException],
  [Err.BADVERSION, BadVersionException],
  [Err.NOCHILDRENFOREPHEMERALS, NoChildrenForEphemeralsException],
  [Err.NODEEXISTS, NodeExistsException],
  [Err.NOTEMPTY, NotEmptyException],
  [Err.SESSIONEXPIRED, SessionExpiredException],
  [Err.INVALIDCALLBACK, InvalidCallbackException],
  [Err.INVALIDACL, InvalidACLException],
  [Err.AUTHFAILED, AuthFailedException],
  [Err.SESSIONMOVED, SessionMovedException],
  [Err.NOTREADONLY, NotReadOnlyException],
  [Err.EPHEMERALONLOCALSESSION, EphemeralOnLocalSessionException],
  [Err.NOWATCHER, NoWatcherException],
  [Err.REQUESTTIMEOUT, RequestTimeoutException],
  [Err.RECONFIGDISABLED, ReconfigDisabledException],
  [Err.SESSIONCLOSEDREQUIRESASLAUTH, SessionClosedRequireAuthException],
  [Err.QUOTAEXCEEDED, QuotaExceededException],
  [Err.THROTTLEDOP, ThrottledOpException],
]);

/** KeeperException.create(code, path): the subclass for `code` (the base class for an unknown code). */
export function createKeeperException(code: number, path?: string, detail?: string): KeeperException {
  const Cls = CLASSES.get(code) ?? KeeperException;
  return new Cls(code, path, detail);
}

/** Java's IllegalArgumentException: the call was refused before anything was sent. */
export class IllegalArgumentError extends Error {
  override name = 'IllegalArgumentError';
}
