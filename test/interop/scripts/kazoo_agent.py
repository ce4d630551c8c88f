#!/usr/bin/env python3
"""A long-lived kazoo client driven line by line (for the ensemble interop test).

Usage: kazoo_agent.py '<json options>'
  options: {"hosts": "127.0.0.1:2181,...", "timeout": 10.0, "randomize_hosts": false}

stdin: one JSON request a line, {"id": N, "op": "...", ...arguments}.
stdout: one JSON document a line, either
  {"id": N, "ok": <result>}  or  {"id": N, "error": "<ExceptionClass>", "message": "..."}
  for a request, or {"event": "...", ...} for something that happened:
  {"event": "state", "state": "CONNECTED"|"SUSPENDED"|"LOST", "session_id": ..., "peer": ...}
  {"event": "watch", "name": ..., "type": "CHANGED"|..., "path": ..., "state": ...}
  {"event": "lock_acquired", "name": ...}, {"event": "elected", "name": ...},
  {"event": "resigned", "name": ...}, {"event": "thread_error", ...}
The first line is {"event": "ready", "pid": ...}. Every wait inside is bounded;
the agent exits when stdin ends (after closing its session unless told "abandon").
Nothing here sleeps for an outcome: the driver awaits the events.
"""
import json
import logging
import os
import sys
import threading
import traceback

from kazoo.client import KazooClient, KazooState

logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")

_out_lock = threading.Lock()


def emit(doc):
    line = json.dumps(doc)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def stat_dict(st):
    if st is None:
        return None
    return {
        "czxid": st.czxid,
        "mzxid": st.mzxid,
        "version": st.version,
        "ephemeralOwner": "0x%x" % st.ephemeralOwner,
        "dataLength": st.dataLength,
        "numChildren": st.numChildren,
    }


class Agent:
    def __init__(self, opts):
        self.opts = opts
        self.client = KazooClient(
            hosts=opts["hosts"],
            timeout=float(opts.get("timeout", 10.0)),
            randomize_hosts=bool(opts.get("randomize_hosts", False)),
            # Keep reconnecting for as long as the test wants (bounded by the test's deadlines).
            connection_retry={"max_tries": -1, "delay": 0.05, "backoff": 1.5, "max_delay": 0.5},
        )
        self.client.add_listener(self.on_state)
        self.locks = {}
        self.elections = {}
        self.resign = {}
        self.abandon = False

    # -- helpers ----------------------------------------------------------------------------
    def session_id(self):
        """Hex (JSON numbers would round a 64-bit id)."""
        cid = self.client.client_id
        return None if cid is None or cid[0] is None else "0x%x" % cid[0]

    def peer(self):
        """host:port of the server the client's socket is connected to, or None."""
        try:
            sock = self.client._connection._socket
            if sock is None:
                return None
            host, port = sock.getpeername()[:2]
            return "%s:%d" % (host, port)
        except Exception:  # noqa: BLE001 - no socket while reconnecting
            return None

    def on_state(self, state):
        # Called on kazoo's connection thread: never block here.
        emit({"event": "state", "state": str(state), "session_id": self.session_id(), "peer": self.peer()})

    def watcher(self, name):
        def fire(ev):
            emit({"event": "watch", "name": name, "type": ev.type, "path": ev.path, "state": ev.state})
        return fire

    def run_thread(self, name, fn):
        def body():
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - reported to the driver
                emit({"event": "thread_error", "name": name, "error": type(e).__name__, "message": str(e)})
        t = threading.Thread(target=body, name=name, daemon=True)
        t.start()

    # -- requests ---------------------------------------------------------------------------
    def op_start(self, req):
        self.client.start(timeout=float(req.get("timeout", 15.0)))
        return self.op_info(req)

    def op_info(self, req):
        return {"session_id": self.session_id(), "peer": self.peer(), "state": str(self.client.state),
                "connected": self.client.connected}

    def op_create(self, req):
        value = req.get("value", "").encode()
        return self.client.create(req["path"], value, ephemeral=bool(req.get("ephemeral", False)),
                                  sequence=bool(req.get("sequence", False)), makepath=bool(req.get("makepath", False)))

    def op_ensure_path(self, req):
        return self.client.ensure_path(req["path"])

    def op_get(self, req):
        watch = self.watcher(req["watch"]) if req.get("watch") else None
        data, st = self.client.get(req["path"], watch=watch)
        return {"data": data.decode(), "stat": stat_dict(st)}

    def op_set(self, req):
        return stat_dict(self.client.set(req["path"], req["value"].encode(), version=int(req.get("version", -1))))

    def op_delete(self, req):
        self.client.delete(req["path"], version=int(req.get("version", -1)), recursive=bool(req.get("recursive", False)))
        return True

    def op_exists(self, req):
        watch = self.watcher(req["watch"]) if req.get("watch") else None
        return stat_dict(self.client.exists(req["path"], watch=watch))

    def op_children(self, req):
        watch = self.watcher(req["watch"]) if req.get("watch") else None
        return sorted(self.client.get_children(req["path"], watch=watch))

    def op_sync(self, req):
        return self.client.sync(req["path"])

    # kazoo Lock: non-blocking attempts answer at once; a blocking one runs on a thread
    # and reports {"event": "lock_acquired"} (or thread_error) when it returns.
    def op_lock_acquire(self, req):
        name = req["name"]
        lock = self.locks.get(name)
        if lock is None:
            lock = self.locks[name] = self.client.Lock(req["path"], req.get("identifier", name))
        if not req.get("blocking", True):
            return lock.acquire(blocking=False)

        def acquire():
            got = lock.acquire(blocking=True, timeout=float(req.get("timeout", 30.0)))
            emit({"event": "lock_acquired" if got else "lock_timeout", "name": name})
        self.run_thread("lock-" + name, acquire)
        return "started"

    def op_lock_release(self, req):
        return self.locks[req["name"]].release()

    def op_lock_contenders(self, req):
        return self.locks[req["name"]].contenders()

    def op_lock_is_acquired(self, req):
        return self.locks[req["name"]].is_acquired

    # kazoo Election: run() blocks until this client is elected, then calls the leader
    # function, which reports "elected" and holds leadership until "election_resign".
    def op_election_run(self, req):
        name = req["name"]
        election = self.elections[name] = self.client.Election(req["path"], req.get("identifier", name))
        resign = self.resign[name] = threading.Event()

        def lead():
            emit({"event": "elected", "name": name})
            resign.wait(float(req.get("hold", 60.0)))

        def run():
            election.run(lead)
            emit({"event": "resigned", "name": name})
        self.run_thread("election-" + name, run)
        return "started"

    def op_election_resign(self, req):
        self.resign[req["name"]].set()
        return True

    def op_election_contenders(self, req):
        return self.elections[req["name"]].contenders()

    def op_abandon(self, req):
        """On stdin's end, exit without closing the session (it must expire on the server)."""
        self.abandon = True
        return True

    def op_stop(self, req):
        self.client.stop()
        self.client.close()
        return True

    def handle(self, req):
        fn = getattr(self, "op_" + req["op"], None)
        if fn is None:
            emit({"id": req.get("id"), "error": "UnknownOp", "message": req["op"]})
            return
        try:
            emit({"id": req.get("id"), "ok": fn(req)})
        except Exception as e:  # noqa: BLE001 - reported to the driver
            emit({"id": req.get("id"), "error": type(e).__name__, "message": str(e) or repr(e),
                  "trace": traceback.format_exc(limit=3)})


def main():
    agent = Agent(json.loads(sys.argv[1]))
    emit({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        # Each request on its own thread: a blocking call (an operation during a
        # disconnection) must not stop the driver's next request, e.g. "info".
        threading.Thread(target=agent.handle, args=(req,), daemon=True).start()
    if not agent.abandon:
        try:
            agent.client.stop()
            agent.client.close()
        except Exception:  # noqa: BLE001
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
