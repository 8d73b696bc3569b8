#!/usr/bin/env python3
"""lebentest's Node binds no port chosen in advance: the node binds port 0 itself and the
test reads the port from its "API listening on" line. With programs side by side, a port
picked by binding 0 and closing could be taken before the node binds it; here every such
pick is a port another socket holds (free_port made to return it), and the node must still
start, on another port, and answer."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lebentest  # noqa: E402
from lebentest import Node, Tap  # noqa: E402


def main():
    t = Tap()
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    taken = held.getsockname()[1]
    picked = lebentest.free_port
    lebentest.free_port = lambda: taken  # the collision: every pick is already in use
    node = Node(demo=False)
    try:
        node.start()
        t.ok(node.port and node.port != taken, "the node started on a port of its own choosing",
             (node.port, taken))
        st, j = node.get("/v1/status")
        t.ok(st == 200, "it answers on the port it reported", j)
        node.stop()
        node.start()
        st, j = node.get("/v1/status")
        t.ok(st == 200 and node.port != taken, "and again after a restart", (node.port, j))
    finally:
        lebentest.free_port = picked
        held.close()
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
