#!/usr/bin/env python3
"""CPU time of the stack's processes, grouped by program, from /proc.

    cpu.py snap FILE [--only DIR]   write {pid: (program, ticks)} now
    cpu.py diff FILE [--only DIR] [--requests N]
                                    print each program's share of the CPU
                                    time used by all of them since then
                                    (with N: also its microseconds of CPU
                                    per request)
    cpu.py pids - [--only DIR]      the stack's pids, comma-separated (for
                                    perf record -p), wrk left out

Programs are named by their command name (/proc/PID/comm: mariadbd,
redis-server, lighttpd, apache2, phonebill-bill, phonebill-worker, ...).
With --only DIR only processes whose command line or environment name DIR
(the stack's state directory) count, and wrk: other stacks on the machine
are left out.
A process that started after the snapshot counts from zero; one that
ended is not seen (its ticks are lost), which the short benchmark runs
make rare.
"""
import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def snap(only=None):
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
            with open("/proc/%s/comm" % pid) as f:
                exe = f.read().strip()
            if only and exe != "wrk":
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    blob = f.read()
                try:
                    with open("/proc/%s/environ" % pid, "rb") as f:
                        blob += f.read()
                except OSError:
                    pass
                if only.encode() not in blob:
                    continue
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])   # utime + stime
        out[pid] = (exe, ticks)
    return out


def main():
    args = sys.argv[1:]
    only = None
    requests = 0
    if len(args) == 6 and args[4] == "--requests":
        try:
            requests = int(args[5])
        except ValueError:
            sys.exit(__doc__)
        args = args[:4]
    if len(args) == 4 and args[2] == "--only":
        only = args[3]
        args = args[:2]
    if len(args) != 2 or args[0] not in ("snap", "diff", "pids"):
        sys.exit(__doc__)
    if args[0] == "pids":
        me = str(os.getpid())
        print(",".join(sorted(p for p, (exe, _) in snap(only).items()
                              if exe != "wrk" and p != me)))
        return
    if args[0] == "snap":
        with open(args[1], "w") as f:
            json.dump(snap(only), f)
        return
    with open(args[1]) as f:
        before = json.load(f)
    now = snap(only)
    per = {}
    for pid, (exe, ticks) in now.items():
        b = before.get(pid)
        d = ticks - (b[1] if b and b[0] == exe else 0)
        if d > 0:
            per[exe] = per.get(exe, 0) + d
    total = sum(per.values()) or 1
    top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
    print("cpu: %s" % ", ".join("%s %.1f%%" % (k, 100.0 * v / total)
                                for k, v in top))
    print("cpu seconds: %.1f" % (total / TICK))
    if requests > 0:
        print("cpu per request (us): %s" % ", ".join(
            "%s %.0f" % (k, 1e6 * v / TICK / requests) for k, v in top))


if __name__ == "__main__":
    main()
