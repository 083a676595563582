"""The python-app example: standard library only."""
import os
import sys


def main(argv):
    if "--selftest" in argv:
        if os.getuid() == 0:
            print("selftest: running as root", file=sys.stderr)
            return 1
        print(f"selftest ok: python {sys.version.split()[0]}, uid {os.getuid()}")
        return 0
    print("hello from a hardened Python image")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
