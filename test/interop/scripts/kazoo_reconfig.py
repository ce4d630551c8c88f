#!/usr/bin/env python3
"""kazoo reconfig interop: client.reconfig() against an ensemble.

Usage: kazoo_reconfig.py <connectString> <leavingId>

Reads the config, tries a reconfig from a stale version (expects BadVersionError),
removes server <leavingId> from the version read, and prints ONE JSON document.
"""
import json
import logging
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError

logging.basicConfig(level=logging.ERROR, stream=sys.stderr)


def version_of(text):
    for line in text.splitlines():
        if line.startswith("version="):
            return int(line[len("version="):], 16)
    return None


def main():
    hosts, leaving = sys.argv[1], sys.argv[2]
    zk = KazooClient(hosts=hosts, timeout=15.0)
    zk.start(timeout=15.0)
    out = {}
    try:
        data, _ = zk.get("/zookeeper/config")
        before = data.decode("utf-8")
        out["before"] = before
        try:
            zk.reconfig(joining=None, leaving=leaving, new_members=None, from_config=version_of(before) + 12345)
            out["stale"] = "accepted"
        except BadVersionError:
            out["stale"] = "BadVersionError"
        data, stat = zk.reconfig(joining=None, leaving=leaving, new_members=None, from_config=version_of(before))
        out["after"] = data.decode("utf-8")
        out["mzxid"] = stat.mzxid
    finally:
        zk.stop()
        zk.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
