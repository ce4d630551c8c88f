#!/usr/bin/env python3
"""kazoo over TLS and/or with SASL: connect, run a few operations, print one JSON line.

argv: connect_string spec_json
spec: {
  "ssl": {"ca": path, "certfile": path, "keyfile": path} | null,
  "sasl": {"username": u, "password": p} | null,
  "auth": [[scheme, credential], ...] | null   (addauth at connect, e.g. ["digest", "u:p"]),
  "timeout": seconds,
  "ops": [[op, args...], ...]
}
ops: ["create", path, data, [[scheme, id, perms], ...] | null]
     ["get", path]  ["set", path, data]  ["delete", path]  ["exists", path]
     ["get_acls", path]  ["children", path]  ["set_acls", path, [[scheme, id, perms], ...]]
Output: {"connected": bool, "error": str|null, "results": [{"ok": ...} | {"error": name}],
         "log": [kazoo warnings/errors seen]}
"""
import json
import logging
import os
import sys
import threading

from kazoo.client import KazooClient
from kazoo.security import ACL, Id


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001
            msg = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            msg += ': %s: %s' % (type(record.exc_info[1]).__name__, record.exc_info[1])
        if record.levelno >= logging.WARNING or 'SSL' in msg or 'ssl' in msg or 'Auth' in msg:
            self.lines.append(msg)


PERMS = {'r': 1, 'w': 2, 'c': 4, 'd': 8, 'a': 16}


def acl_list(spec):
    if spec is None:
        return None
    out = []
    for scheme, ident, perms in spec:
        p = 0
        for ch in perms:
            p |= PERMS[ch]
        out.append(ACL(p, Id(scheme, ident)))
    return out


def main():
    hosts = sys.argv[1]
    spec = json.loads(sys.argv[2])
    collect = Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    threading.excepthook = lambda a: collect.lines.append('thread died: %s: %s' % (type(a.exc_value).__name__, a.exc_value))
    kwargs = {}
    ssl = spec.get('ssl')
    if ssl:
        kwargs.update(use_ssl=True, ca=ssl.get('ca'), certfile=ssl.get('certfile'), keyfile=ssl.get('keyfile'),
                      verify_certs=ssl.get('verify', True))
    sasl = spec.get('sasl')
    if sasl:
        kwargs['sasl_options'] = {'mechanism': 'DIGEST-MD5', 'username': sasl['username'], 'password': sasl['password']}
    if spec.get('auth'):
        kwargs['auth_data'] = [(scheme, cred) for scheme, cred in spec['auth']]
    zk = KazooClient(hosts=hosts, timeout=spec.get('session_timeout', 10),
                     connection_retry={'max_tries': 0}, **kwargs)
    result = {'connected': False, 'error': None, 'results': [], 'log': collect.lines}
    try:
        zk.start(timeout=spec.get('timeout', 10))
        result['connected'] = True
    except Exception as e:  # noqa: BLE001
        result['error'] = '%s: %s' % (type(e).__name__, e)
        print(json.dumps(result), flush=True)
        os._exit(0)
    for op in spec.get('ops', []):
        name, args = op[0], op[1:]
        try:
            t = spec.get('op_timeout', 10)
            if name == 'create':
                v = zk.create_async(args[0], args[1].encode(), acl=acl_list(args[2] if len(args) > 2 else None)).get(timeout=t)
            elif name == 'get':
                v = zk.get_async(args[0]).get(timeout=t)[0].decode()
            elif name == 'set':
                zk.set_async(args[0], args[1].encode()).get(timeout=t)
                v = True
            elif name == 'delete':
                zk.delete_async(args[0]).get(timeout=t)
                v = True
            elif name == 'exists':
                v = zk.exists_async(args[0]).get(timeout=t) is not None
            elif name == 'children':
                v = sorted(zk.get_children_async(args[0]).get(timeout=t))
            elif name == 'set_acls':
                zk.set_acls_async(args[0], acl_list(args[1])).get(timeout=t)
                v = True
            elif name == 'get_acls':
                v = [[a.id.scheme, a.id.id, a.perms] for a in zk.get_acls_async(args[0]).get(timeout=t)[0]]
            else:
                raise ValueError('unknown op %s' % name)
            result['results'].append({'ok': v})
        except Exception as e:  # noqa: BLE001
            result['results'].append({'error': type(e).__name__})
    result['state'] = str(zk.state)
    print(json.dumps(result), flush=True)
    # kazoo's connection thread may be dead (an error code it does not know): do not wait for it.
    os._exit(0)


if __name__ == '__main__':
    main()
