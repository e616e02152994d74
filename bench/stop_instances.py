#!/usr/bin/env python3
"""Stops the agent of each data directory given (DATA/agent/agent.json) and every instance it ran, sandbox and all.

A sandboxed instance's recorded pid is its bubblewrap monitor, and its command line no longer names the data
directory (the artifact is passed by file descriptor): `pkill -f DATA` misses it, and killing the monitor alone would
orphan the sandbox. So: each process tree, descendants first, as the process driver stops an instance.

Usage: bench/stop_instances.py DATA [DATA ...]   (a server's --data, or a remote agent's)
"""
import json
import os
import signal
import sys


def kill_tree(pid):
    """SIGKILL to pid's descendants first, then pid: killing a sandbox's monitor first would orphan the sandbox."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open("/proc/%s/stat" % entry).read()
                children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    order, todo = [], [pid]
    while todo:
        p = todo.pop()
        order.append(p)
        todo.extend(children.get(p, []))
    for p in reversed(order):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def kill_everything(data):
    """Stops the agent of data (if any) and every instance it ran, with their sandboxes."""
    home = os.path.join(data, "agent")
    try:
        kill_tree(json.load(open(os.path.join(home, "agent.json")))["pid"])
    except (OSError, ValueError, KeyError):
        pass
    instances = os.path.join(home, "instances")
    for d in os.listdir(instances) if os.path.isdir(instances) else []:
        try:
            kill_tree(json.load(open(os.path.join(instances, d, "state.json")))["pid"])
        except (OSError, ValueError, KeyError):
            pass


if __name__ == "__main__":
    for data in sys.argv[1:]:
        kill_everything(data)
