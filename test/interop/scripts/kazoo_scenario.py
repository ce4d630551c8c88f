#!/usr/bin/env python3
"""kazoo interop scenario.

Usage: kazoo_scenario.py <connectString> [rootPath]

Runs a fixed scenario against the server and prints ONE JSON document on
stdout (last line). Waits are bounded (threading.Event.wait(timeout)); a
missed event is reported as null, never as a hang. Exit code is 0 unless the
scenario crashed (then the traceback is on stderr).
"""
import json
import logging
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    RolledBackError,
    KazooException,
)

logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

WAIT = 10.0  # upper bound for any single event wait, seconds


def stat_dict(st):
    return {
        "czxid": st.czxid,
        "mzxid": st.mzxid,
        "pzxid": st.pzxid,
        "ctime": st.ctime,
        "mtime": st.mtime,
        "version": st.version,
        "cversion": st.cversion,
        "aversion": st.aversion,
        "ephemeralOwner": st.ephemeralOwner,
        "dataLength": st.dataLength,
        "numChildren": st.numChildren,
    }


def result_repr(r):
    """Transaction results: path strings, True, Stat, or exception instances."""
    if isinstance(r, BaseException):
        return {"error": type(r).__name__}
    if isinstance(r, bool):
        return r
    if isinstance(r, str):
        return r
    if hasattr(r, "czxid"):
        return {"stat": {"version": r.version}}
    return repr(r)


def main():
    hosts = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else "/kazoo-interop"
    out = {}

    zk = KazooClient(hosts=hosts, timeout=10.0)
    zk.start(timeout=15)
    out["connected"] = zk.connected
    out["client_state"] = zk.state
    try:
        # ensure_path (deep) + create with data
        zk.ensure_path(root + "/a/b")
        out["ensure_path_exists"] = zk.exists(root + "/a/b") is not None
        created = zk.create(root + "/data", b"hello kazoo")
        out["create_returned"] = created

        # get: data + stat
        data, st = zk.get(root + "/data")
        out["get"] = {"data": data.decode(), "stat": stat_dict(st)}
        out["session_id"] = zk.client_id[0]

        # set with version: correct version, then stale version
        st2 = zk.set(root + "/data", b"v1", version=st.version)
        out["set_ok_version"] = st2.version
        try:
            zk.set(root + "/data", b"v2", version=st.version)
            out["set_stale"] = "no error"
        except BadVersionError:
            out["set_stale"] = "BadVersionError"

        # data watch: CHANGED then DELETED
        zk.create(root + "/watched", b"w0")
        events = []
        changed = threading.Event()
        deleted = threading.Event()

        def data_watch(ev):
            events.append({"type": ev.type, "state": ev.state, "path": ev.path})
            if ev.type == "CHANGED":
                changed.set()
                # one-shot: re-arm to see the delete
                try:
                    zk.get(root + "/watched", watch=data_watch)
                except NoNodeError:
                    pass
            elif ev.type == "DELETED":
                deleted.set()

        zk.get(root + "/watched", watch=data_watch)
        zk.set(root + "/watched", b"w1")
        changed.wait(WAIT)
        zk.delete(root + "/watched")
        deleted.wait(WAIT)
        out["data_watch_events"] = events

        # kazoo DataWatch recipe (calls with current data first, then on change)
        dw_calls = []
        dw_done = threading.Event()
        zk.create(root + "/dw", b"d0")

        @zk.DataWatch(root + "/dw")
        def _dw(data, stat, event=None):
            dw_calls.append({
                "data": None if data is None else data.decode(),
                "version": None if stat is None else stat.version,
                "event": None if event is None else event.type,
            })
            if len(dw_calls) >= 2:
                dw_done.set()

        zk.set(root + "/dw", b"d1")
        dw_done.wait(WAIT)
        out["datawatch_recipe"] = dw_calls[:2]

        # children watch
        zk.ensure_path(root + "/kids")
        child_events = []
        child_fired = threading.Event()

        def child_watch(ev):
            child_events.append({"type": ev.type, "state": ev.state, "path": ev.path})
            child_fired.set()

        before = zk.get_children(root + "/kids", watch=child_watch)
        zk.create(root + "/kids/c1", b"")
        child_fired.wait(WAIT)
        out["children_before"] = before
        out["children_after"] = sorted(zk.get_children(root + "/kids"))
        out["child_watch_events"] = child_events

        # ephemeral + sequential
        eph = zk.create(root + "/eph", b"e", ephemeral=True)
        _, eph_stat = zk.get(eph)
        seq1 = zk.create(root + "/kids/seq-", b"s", sequence=True)
        seq2 = zk.create(root + "/kids/seq-", b"s", sequence=True)
        eseq = zk.create(root + "/kids/eseq-", b"s", ephemeral=True, sequence=True)
        out["ephemeral"] = {
            "path": eph,
            "owner_is_session": eph_stat.ephemeralOwner == zk.client_id[0],
            "ephemeralOwner": eph_stat.ephemeralOwner,
        }
        out["sequential"] = [seq1, seq2, eseq]
        try:
            zk.create(root + "/eph/child", b"")
            out["ephemeral_child"] = "no error"
        except KazooException as e:
            out["ephemeral_child"] = type(e).__name__
        try:
            zk.create(root + "/data", b"dup")
            out["create_existing"] = "no error"
        except NodeExistsError:
            out["create_existing"] = "NodeExistsError"

        # transaction: success
        t = zk.transaction()
        t.create(root + "/tx1", b"t1")
        t.create(root + "/tx2", b"t2")
        t.set_data(root + "/tx1", b"t1b")
        t.check(root + "/data", 1)
        t.delete(root + "/tx2")
        out["txn_ok"] = [result_repr(r) for r in t.commit()]
        out["txn_ok_data"] = zk.get(root + "/tx1")[0].decode()
        out["txn_ok_tx2_exists"] = zk.exists(root + "/tx2") is not None

        # transaction: failing check rolls back everything
        t = zk.transaction()
        t.create(root + "/tx3", b"t3")
        t.check(root + "/data", 42)
        t.set_data(root + "/tx1", b"never")
        out["txn_fail"] = [result_repr(r) for r in t.commit()]
        out["txn_fail_tx3_exists"] = zk.exists(root + "/tx3") is not None
        out["txn_fail_tx1_data"] = zk.get(root + "/tx1")[0].decode()

        # Lock: two contenders on two sessions
        zk2 = KazooClient(hosts=hosts, timeout=10.0)
        zk2.start(timeout=15)
        try:
            lock1 = zk.Lock(root + "/lock", "contender-1")
            lock2 = zk2.Lock(root + "/lock", "contender-2")
            got1 = lock1.acquire(timeout=WAIT)
            got2_nonblocking = lock2.acquire(blocking=False)
            contenders = lock1.contenders()
            acquired2 = threading.Event()
            order = []

            def second():
                if lock2.acquire(timeout=WAIT):
                    order.append("contender-2 acquired")
                    acquired2.set()

            th = threading.Thread(target=second)
            th.start()
            # bounded wait until the 2nd contender's node is queued behind ours
            waiting = threading.Event()
            contenders_waiting = []
            for _ in range(200):
                contenders_waiting = lock1.contenders()
                if len(contenders_waiting) >= 2:
                    break
                waiting.wait(0.05)
            order.append("contender-1 releasing")
            lock1.release()
            acquired2.wait(WAIT)
            th.join(WAIT)
            contenders_after = lock2.contenders()
            lock2.release()
            out["lock"] = {
                "first_acquired": got1,
                "second_nonblocking": got2_nonblocking,
                "contenders_while_held": contenders,
                "contenders_while_waiting": contenders_waiting,
                "second_acquired_after_release": acquired2.is_set(),
                "order": order,
                "contenders_after": contenders_after,
                "lock_children_after_release": zk.get_children(root + "/lock"),
            }
        finally:
            zk2.stop()
            zk2.close()

        # cleanup (recursive delete) and verify
        zk.delete(root, recursive=True)
        out["root_after_cleanup"] = zk.exists(root) is not None
    finally:
        zk.stop()
        zk.close()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
