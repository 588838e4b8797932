"""Helpers shared by the measuring scripts: free loopback ports and an nginx master's workers."""

import os
import socket
import time

# nginx reads inherited listening sockets from $NGINX: never pass one on
os.environ.pop("NGINX", None)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc=None, seconds=10):
    """Poll until 127.0.0.1:port accepts; fail at once if `proc` (the nginx master) has exited."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"nginx exited with {proc.returncode} before listening on {port}: {err}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def workers(master_pid):
    """PIDs of the processes whose parent is `master_pid`."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master_pid:
                        pids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_tests(tests, name, add_args=None):
    """The main of a test runner: `--nginx`, `--module`, `--only`, `--label` (and what
    `add_args(parser)` adds); runs each (name, fn(args)) of `tests`, prints `ok` / `not ok`
    lines and `<name> tests: N passed, M failed`, and returns the exit status."""
    import argparse
    import time as _time
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--label", default="")
    if add_args:
        add_args(ap)
    args = ap.parse_args()
    args.nginx, args.module = os.path.abspath(args.nginx), os.path.abspath(args.module)
    only = [x for x in args.only.split(",") if x]
    passed = failed = 0
    for tname, fn in tests:
        if only and tname not in only:
            continue
        t0 = _time.time()
        try:
            what = fn(args)
            passed += 1
            print(f"ok - {args.label}{tname}: {what} ({_time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, the others still run
            failed += 1
            print(f"not ok - {args.label}{tname}: {e!r}", flush=True)
    print(f"{name} tests: {passed} passed, {failed} failed")
    return failed
