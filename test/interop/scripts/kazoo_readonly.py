#!/usr/bin/env python3
"""kazoo against a member serving read-only (readonlymode.enabled, no quorum).

Usage: kazoo_readonly.py <connectString> <path>

Prints ONE JSON document (last line): what a read-only session could read, what a
write answered, and whether a read-write client was let in.
"""
import json
import logging
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError

logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
hosts, path = sys.argv[1], sys.argv[2]
out = {}
ro = KazooClient(hosts=hosts, read_only=True, timeout=4.0)
ro.start(timeout=10)
out['data'] = ro.get(path)[0].decode()
try:
    ro.create(path + '/new', b'x')
    out['write'] = 'accepted'
except NotReadOnlyCallError:
    out['write'] = 'NotReadOnlyCallError'
ro.stop()
rw = KazooClient(hosts=hosts, timeout=4.0)
try:
    rw.start(timeout=3)
    out['rwClient'] = 'connected'
except Exception as e:
    out['rwClient'] = type(e).__name__
finally:
    rw.stop()
print(json.dumps(out))
