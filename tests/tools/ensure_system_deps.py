"""Install the Debian packages the suite needs when they are missing (and we are root).

Called by ``make test`` before pytest. Anything that cannot be installed is reported; the
tests that need it then fail with their own message rather than being skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# (command or path that proves the package is there, Debian package)
NEEDED: list[tuple[str, str]] = [
    ("/usr/bin/chromium", "chromium"),  # the browser tests (Playwright drives it)
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"),  # Chinese text
]


def _present(probe: str) -> bool:
    return os.path.exists(probe) if probe.startswith("/") else shutil.which(probe) is not None


def main() -> int:
    missing = [package for probe, package in NEEDED if not _present(probe)]
    if not missing:
        return 0
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"missing system packages (install them): {' '.join(missing)}", file=sys.stderr)
        return 0
    print(f"installing system packages: {' '.join(missing)}", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
