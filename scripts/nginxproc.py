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
