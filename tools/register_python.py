"""Registers a build's Python package directory with this interpreter, so that `import deploysim` works from
any directory: a deploysim.pth file in the user's site-packages (which the interpreter reads at start-up)
naming the directory. Run by `make` with /usr/bin/python3; safe to run again."""

import os
import site
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: register_python.py BUILD_PYTHON_DIR", file=sys.stderr)
        return 2
    package_dir = os.path.abspath(sys.argv[1])
    if not os.path.isdir(os.path.join(package_dir, "deploysim")):
        print(f"register_python.py: no deploysim package in {package_dir}", file=sys.stderr)
        return 1
    if not site.ENABLE_USER_SITE:
        print("register_python.py: this interpreter ignores the user site-packages; set PYTHONPATH="
              + package_dir, file=sys.stderr)
        return 1
    target = site.getusersitepackages()
    os.makedirs(target, exist_ok=True)
    pth = os.path.join(target, "deploysim.pth")
    line = package_dir + "\n"
    try:
        with open(pth, encoding="utf-8") as f:
            if f.read() == line:
                return 0
    except FileNotFoundError:
        pass
    with open(pth, "w", encoding="utf-8") as f:
        f.write(line)
    print(f"registered {package_dir} in {pth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
