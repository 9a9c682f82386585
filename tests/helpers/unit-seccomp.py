#!/usr/bin/python3
"""Runs a command under the system call filter of a systemd unit, the way systemd would.

    unit-seccomp.py UNIT_FILE COMMAND [ARGS...]

Reads the unit's SystemCallFilter= lines (an allow list, then `~` deny lists that remove
from it), SystemCallErrorNumber= and RestrictAddressFamilies=, expands the @groups with
`systemd-analyze syscall-filter`, loads the filter with libseccomp (python3-seccomp) for the
native architecture only (SystemCallArchitectures=native) and execs COMMAND. socket() is
allowed only for the unit's address families (other families get the filter's errno;
systemd answers EAFNOSUPPORT, the difference does not matter to what is tested). A call outside the
list fails with the unit's errno, as under systemd, so a test can check the daemon still
starts without a systemd PID 1 to run the unit.
"""
import errno
import os
import socket
import subprocess
import sys

import seccomp


def expand(name, seen):
    if not name.startswith('@'):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(['systemd-analyze', 'syscall-filter', '--no-pager', name], check=True, capture_output=True, text=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith('#'):
            continue
        calls |= expand(item, seen)
    return calls


def main():
    unit, command = sys.argv[1], sys.argv[2:]
    allowed = None
    err = errno.EPERM
    families = None
    for line in open(unit, encoding='utf-8'):
        line = line.strip()
        if line.startswith('SystemCallErrorNumber='):
            err = getattr(errno, line.split('=', 1)[1])
        if line.startswith('RestrictAddressFamilies='):
            families = [getattr(socket, name) for name in line.split('=', 1)[1].split()]
        if not line.startswith('SystemCallFilter='):
            continue
        value = line.split('=', 1)[1]
        deny = value.startswith('~')
        names = set()
        for item in value.lstrip('~').split():
            names |= expand(item, set())
        if deny:
            allowed = (allowed or set()) - names
        else:
            allowed = (allowed or set()) | names
    if allowed is None:
        sys.exit(f'{unit}: no SystemCallFilter=')
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(err))
    if families is not None and 'socket' in allowed:
        allowed.discard('socket')
        for family in families:
            f.add_rule(seccomp.ALLOW, 'socket', seccomp.Arg(0, seccomp.EQ, int(family)))
    for name in sorted(allowed):
        try:
            f.add_rule(seccomp.ALLOW, name)
        except (RuntimeError, ValueError):
            pass  # not a call of this architecture
    f.load()
    os.execvp(command[0], command)


main()
