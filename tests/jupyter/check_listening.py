#!/usr/bin/env python3
"""Starts a kernel through Jupyter's own client (jupyter_client's KernelManager, as Jupyter and VS Code do) and
checks, from the kernel's socket table, that every TCP socket its processes listen on is bound to a loopback
address (127.0.0.0/8 or ::1). The kernel's ZeroMQ channels always listen (on the connection file's 127.0.0.1);
the .NET Interactive kernel also opens an HTTP server on a port of --http-port-range (2048-3000), which listens on
every network interface unless the kernelspec's argv has --http-local-only (`stag kernel install` writes it).

Linux only: the sockets are read from /proc/<pid>/net/tcp and tcp6 (state 0A = LISTEN) and matched to the
kernel's processes by the socket inodes in /proc/<pid>/fd. Exits 0 when only loopback addresses listen, 1 naming
each other address, 2 when the check could not run.

usage: check_listening.py [--kernel .net-csharp] [--timeout 120]
       check_listening.py --self-test     proves the detector sees a listener on 0.0.0.0 (and on ::) and passes 127.0.0.1
"""
import argparse, ipaddress, os, socket, sys, time

LISTEN = '0A'
HTTP_PORTS = range(2048, 3001)


def socket_inodes(pid):
    """Inodes of the sockets process pid has open."""
    inodes = set()
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                target = os.readlink(f'/proc/{pid}/fd/{fd}')
            except OSError:
                continue
            if target.startswith('socket:['):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def decode_address(hex_address):
    """/proc/net/tcp's address: the IPv4 or IPv6 bytes as 32-bit words in host (little-endian) order, then the port."""
    host, port = hex_address.split(':')
    raw = bytes.fromhex(host)
    raw = b''.join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw), int(port, 16)


def listening(pid):
    """(address, port) of every TCP socket process pid listens on."""
    mine = socket_inodes(pid)
    found = []
    for table in ('tcp', 'tcp6'):
        path = f'/proc/{pid}/net/{table}'
        if not os.path.exists(path):
            continue
        with open(path) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == LISTEN and int(fields[9]) in mine:
                    found.append(decode_address(fields[1]))
    return found


def is_loopback(address):
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def process_tree(pid):
    """pid and its descendants (the kernelspec may start a launcher that starts the kernel)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    parent = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def report(sockets):
    return ', '.join(f'{a}:{p}' for a, p in sorted(sockets, key=lambda s: (str(s[0]), s[1]))) or 'none'


def self_test():
    opened, failures = [], []
    cases = [(socket.AF_INET, '127.0.0.1', True), (socket.AF_INET, '0.0.0.0', False)]
    if socket.has_ipv6:
        cases += [(socket.AF_INET6, '::1', True), (socket.AF_INET6, '::', False)]
    for family, host, loopback in cases:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
        except OSError as e:   # no IPv6 on this host
            print(f'self-test: cannot bind {host} ({e}); that case is skipped')
            s.close()
            continue
        s.listen()
        opened.append(s)
        port = s.getsockname()[1]
        seen = [(a, p) for a, p in listening(os.getpid()) if p == port]
        if len(seen) != 1:
            failures.append(f'{host}:{port} listens but the socket table shows {report(seen)}')
        elif is_loopback(seen[0][0]) != loopback:
            failures.append(f'{host}:{port} was judged {"loopback" if is_loopback(seen[0][0]) else "exposed"}')
        else:
            print(f'self-test: {host}:{port} seen as {seen[0][0]} ({"loopback" if loopback else "exposed"})')
    for s in opened:
        s.close()
    if failures:
        print('self-test FAILED: ' + '; '.join(failures))
        return 1
    print('self-test: the detector tells loopback from exposed listeners')
    return 0


def check(kernel, timeout):
    from jupyter_client import KernelManager
    km = KernelManager(kernel_name=kernel)
    print(f'kernel {kernel}: {" ".join(km.kernel_spec.argv)}', flush=True)
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=timeout)
        kc.execute_interactive('1 + 1', timeout=timeout)   # a cell has run: the kernel has opened what it opens
        pid = km.provisioner.pid if hasattr(km, 'provisioner') and km.provisioner else km.kernel.pid
        deadline, sockets = time.time() + 30, []
        while True:   # the HTTP server may start after the kernel answers; wait for it (or 30 s)
            sockets = [s for p in process_tree(pid) for s in listening(p)]
            if any(port in HTTP_PORTS for _, port in sockets) or time.time() > deadline:
                break
            time.sleep(0.5)
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    if not sockets:
        print(f'kernel {kernel}: no listening socket found for process {pid} (is /proc readable?)')
        return 2
    exposed = [s for s in sockets if not is_loopback(s[0])]
    http = [s for s in sockets if s[1] in HTTP_PORTS]
    print(f'kernel {kernel} (pid {pid}) listens on: {report(sockets)}')
    if not http:
        print(f'kernel {kernel}: no HTTP listener in {HTTP_PORTS.start}-{HTTP_PORTS.stop - 1} within 30 s')
    if exposed:
        print(f'kernel {kernel} listens beyond loopback on {report(exposed)}: register it with `stag kernel install` '
              '(its argv needs --http-local-only)')
        return 1
    print(f'kernel {kernel}: every listening socket is on loopback')
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kernel', default='.net-csharp')
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--self-test', action='store_true')
    a = ap.parse_args()
    if not os.path.isdir('/proc/self/net'):
        print('check_listening: needs Linux /proc (no /proc/self/net here)')
        return 2
    return self_test() if a.self_test else check(a.kernel, a.timeout)


if __name__ == '__main__':
    sys.exit(main())
