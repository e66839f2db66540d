"""Run a command and report its own peak memory: `python peak_rss.py REPORT_FILE COMMAND...`.

Why a go-between: on Linux a child's max RSS (`wait4`) starts from its parent's RSS high-water
mark, carried through fork and exec. Measured straight from the benchmark, dbt's "peak" would be
at least the benchmark's own (it has generated millions of events in-process and imported
Dagster). This small fresh interpreter starts the command itself, so the figure it writes to
REPORT_FILE (KiB) is the command's. It passes SIGTERM/SIGINT on and exits with the command's code.
Standard library only, and nothing imported that it does not need: its own RSS must stay small.
"""

import os
import signal
import sys


def main() -> int:
    report, *command = sys.argv[1:]
    pid = os.posix_spawnp(command[0], command, os.environ)

    def forward(signum: int, frame: object) -> None:
        os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    _, status, usage = os.wait4(pid, 0)
    with open(report, "w") as handle:
        handle.write(f"{usage.ru_maxrss}\n")
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main())
