#!/usr/bin/env python3
"""The README and docs/ link only inside the repository: every relative link resolves to a file
or folder of the repository (and its #anchor to a heading of that page); no link climbs out of
the repository or names an absolute path. Web links (https://…) are left alone.
Prints one line per page and `doc links: N passed, M failed`.
"""

import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Pages another part of the project writes; linked from the index before they land.
PENDING = {"docs/status.md"}


def anchors(path):
    out = set()
    in_code = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def main():
    pages = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
    passed = failed = 0
    for page in pages:
        rel = os.path.relpath(page, ROOT)
        text = open(page, encoding="utf-8").read()
        text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # links in code are not links
        bad = []
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                if target.startswith("file:"):
                    bad.append(f"{target}: a file: link")
                continue
            path, _, anchor = target.partition("#")
            if path.startswith("/"):
                bad.append(f"{target}: an absolute path")
                continue
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            drel = os.path.relpath(dest, ROOT)
            if drel.startswith(".."):
                bad.append(f"{target}: outside the repository")
            elif not os.path.exists(dest):
                if drel not in PENDING:
                    bad.append(f"{target}: no such file")
            elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                bad.append(f"{target}: no heading #{anchor} in {drel}")
        if bad:
            failed += 1
            print(f"FAIL links of {rel}")
            for b in bad:
                print(f"    | {b}")
        else:
            passed += 1
            print(f"ok   links of {rel}")
    print(f"doc links: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
