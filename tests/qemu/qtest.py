"""tests/qemu/qtest.py: tiny helpers shared by the QEMU test scripts.

Each check prints `ok NAME` or `not ok NAME: why` (counted by tools/testrun.sh).  A test
function that raises is reported as one failed check, so a hang or crash of the guest
never passes silently."""

import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import vmachine  # noqa: E402,F401

failures = 0


def check(cond, name, why=""):
    global failures
    if cond:
        print("ok " + name, flush=True)
    else:
        failures += 1
        print("not ok %s: %s" % (name, why or "check failed"), flush=True)
    return cond


def check_in(needle, haystack, name):
    return check(needle in haystack, name, "%r not in output:\n%s" % (needle, haystack[-1500:]))


def run(*tests):
    """Run test functions in order; exit status 1 if any check failed."""
    global failures
    for t in tests:
        try:
            t()
        except Exception as e:  # one failed check, with the reason
            failures += 1
            msg = "".join(traceback.format_exception_only(type(e), e)).strip().replace("\n", "\n    ")
            print("not ok %s: raised %s" % (t.__name__, msg), flush=True)
    sys.exit(1 if failures else 0)
