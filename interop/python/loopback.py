"""Runs a command where the only network is this machine's loopback: a private network namespace (Linux, an
unprivileged user namespace: `unshare --user --map-root-user --net`), its `lo` brought up, then the command.

Why: PyTorch 1.13's c10d TCPStore (the rendezvous store torchrun's agent hosts) listens on every interface, whatever
--master_addr says; gloo's own sockets follow GLOO_SOCKET_IFNAME. For a single-machine run that must not be
reachable from outside (the tests), run torchrun through this:

    python3 loopback.py python3 -m torch.distributed.run --nnodes=1 --nproc_per_node=2 \
        --master_addr=127.0.0.1 --master_port=29500 --redirects=1 --tee=1 train.py ...

Files, processes and signals are the host's (only the network is private). Exit status: the command's; 125 when the
namespace cannot be made here (user namespaces disabled), with the reason on stderr.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def main(argv) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get("STAG_LOOPBACK_INSIDE") == "1":
        bring_up_loopback()
        os.environ.pop("STAG_LOOPBACK_INSIDE")
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
        os.execvp(argv[0], argv)
    unshare = shutil.which("unshare")
    if unshare is None:
        print("loopback.py: no `unshare` (util-linux) on PATH", file=sys.stderr)
        return 125
    probe = subprocess.run([unshare, "--user", "--map-root-user", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"loopback.py: cannot make a private network namespace here: {probe.stderr.strip()}", file=sys.stderr)
        return 125
    env = dict(os.environ, STAG_LOOPBACK_INSIDE="1")
    os.execve(unshare, [unshare, "--user", "--map-root-user", "--net", sys.executable, os.path.abspath(__file__)] + argv, env)
    return 0   # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
