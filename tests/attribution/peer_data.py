"""ChannelAttribution's own example data (``Data.csv``), fetched from PyPI at set-up, never committed.

The file ships only in ChannelAttribution's GPL-3 source distribution, not in its wheel, so this Apache-2.0
repository does not copy it: ``make test`` runs this script, which downloads the source distribution of the
installed ChannelAttribution version from the package registry (PyPI's simple index, the same place pip
installs from), checks the archive against the index's sha256, and extracts the one CSV into
``.cache/peer-data/`` (git-ignored). The tests read it from there and never touch the network.

    .venv/bin/python tests/attribution/peer_data.py
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import tarfile
import urllib.request
from importlib.metadata import version
from pathlib import Path

INDEX = "https://pypi.org/simple/channelattribution/"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "peer-data"


def example_path() -> Path:
    """Where the example CSV of the installed ChannelAttribution version is cached."""
    return CACHE / f"channelattribution-{version('ChannelAttribution')}" / "Data.csv"


def fetch(timeout: float = 120.0) -> Path:
    """Download (once) and extract ``Data.csv``; returns its path."""
    target = example_path()
    if target.exists():
        return target
    ver = version("ChannelAttribution")
    name = f"channelattribution-{ver}.tar.gz"
    with urllib.request.urlopen(INDEX, timeout=timeout) as response:
        page = response.read().decode()
    found = re.search(r'href="([^"#]*/' + re.escape(name) + r')#sha256=([0-9a-f]{64})"', page)
    if found is None:
        raise SystemExit(f"{name} is not listed on {INDEX}")
    url, sha = found.groups()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        blob = response.read()
    if hashlib.sha256(blob).hexdigest() != sha:
        raise SystemExit(f"{name}: sha256 does not match the index")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/data/Data.csv"))
        data = archive.extractfile(member).read()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(f"ChannelAttribution example data: {fetch()}", file=sys.stderr)
