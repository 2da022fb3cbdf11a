#!/usr/bin/env python3
"""Check a Harmonyze Portal history export's seals without the portal (DOMAIN.md H3).

    python3 verify_history_export.py history.csv [--complete] [--expect SEAL_SHA256 ...]

The file is the history export downloaded "With seals (H3)". Python 3.11 or later, standard
library only. For every line it checks that the version text hashes to its "version sha256",
is written canonically, and agrees with the line's timestamp, actor, change and reason; that
the lines of one version agree; then it recomputes every seal whose rows are all in the file
(an export limited to some days or one record holds only parts of most seals: those are
counted, not checked; with ``--complete``, for an export of every day and record, a seal
missing rows is broken) and checks that consecutive seals are chained. A version a PP 4 purge
blanked (its "redacted" cell says so) counts in its seal with its "sha256 as sealed", the hash
it had when written; such versions are counted and reported, never passed over in silence.
``--expect`` names seal hashes you were given separately (the output of
``manage.py seal_history``): each must be in the file. The algorithm is the README's
"History seals". Exit code 0: every check passed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

CHANGES = {"+": "created", "~": "changed", "-": "deleted"}
# The export writes a cell starting with one of these behind a quote (CSV injection guard).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def as_written(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def line_problems(line: dict[str, str]) -> list[str]:
    """What is wrong with one line's version text, hash and readable columns."""
    text = line["version"]
    if sha256_hex(text) != line["version sha256"]:
        return ["the version text does not hash to its version sha256"]
    data = json.loads(text)
    if canonical(data) != text:
        return ["the version text is not written canonically"]
    row = data["row"]
    problems = []
    if str(row.get("history_id")) != line["history id"]:
        problems.append("history id differs from the version's")
    stamp = datetime.fromisoformat(row["history_date"])
    # The same instant, whatever offset the export wrote it with (older exports: UTC).
    written = line.get("timestamp") or line.get("timestamp (UTC)") or ""
    shown = datetime.fromisoformat(written)
    if shown.microsecond == 0:  # the export writes whole seconds; the version keeps more
        stamp = stamp.replace(microsecond=0)
    if stamp != shown:
        problems.append("timestamp differs from the version's")
    if as_written(row["history_actor"]) != line["actor"]:
        problems.append("actor differs from the version's")
    if CHANGES.get(row["history_type"], row["history_type"]) != line["change"]:
        problems.append("change differs from the version's")
    if as_written(row["history_change_reason"]) != line["reason"]:
        problems.append("reason differs from the version's")
    return problems


def redaction_problems(line: dict[str, str]) -> list[str]:
    """A redacted version says under which rule and gives the hash its seal covers."""
    redacted, sealed = line.get("redacted", ""), line.get("sha256 as sealed", "")
    if not redacted:
        return ["a hash as sealed on a version not redacted"] if sealed else []
    if redacted != "PP 4":
        return [f"redacted under {redacted!r}: only a PP 4 purge redacts history"]
    if len(sealed) != 64 or sealed == line["version sha256"]:
        return ["a redacted version without the hash it had when sealed"]
    return []


def seal_hash(previous: str, table: str, number: int, row_hashes: list[str]) -> str:
    hasher = hashlib.sha256(f"{previous}\n{table}\n{number}".encode())
    for row_hash in row_hashes:
        hasher.update(f"\n{row_hash}".encode())
    return hasher.hexdigest()


def verify(path: str, expected: list[str], *, complete: bool = False) -> int:
    versions: dict[tuple[str, int], str] = {}
    seals: dict[tuple[str, int], tuple[int, int, int, str, str]] = {}
    members: dict[tuple[str, int], set[int]] = defaultdict(set)
    problems: list[str] = []
    unsealed = 0
    sealed_as: dict[tuple[str, int], str] = {}
    with Path(path).open(newline="", encoding="utf-8") as file:
        for number, line in enumerate(csv.DictReader(file), start=2):
            problems += [f"line {number}: {problem}" for problem in line_problems(line)]
            table = json.loads(line["version"])["table"]
            key = (table, int(line["history id"]))
            if versions.setdefault(key, line["version"]) != line["version"]:
                problems.append(f"line {number}: another line gives this version other text")
            problems += [f"line {number}: {problem}" for problem in redaction_problems(line)]
            if line.get("redacted"):
                sealed_as[key] = line["sha256 as sealed"]
            if not line["seal"]:
                unsealed += 1
                continue
            seal = (table, int(line["seal"]))
            info = (
                int(line["seal after id"]),
                int(line["seal last id"]),
                int(line["seal rows"]),
                line["previous seal sha256"],
                line["seal sha256"],
            )
            if seals.setdefault(seal, info) != info:
                problems.append(f"line {number}: another line describes seal {seal[1]} otherwise")
            members[seal].add(key[1])
    checked = partial = 0
    for (table, number), (after, last, count, previous, sha256) in sorted(seals.items()):
        ids = sorted(members[(table, number)])
        if any(not after < history_id <= last for history_id in ids):
            problems.append(f"{table} seal {number}: a row outside the ids it covers")
        if len(ids) < count and not complete:
            partial += 1
            continue
        hashes = [
            sealed_as.get((table, history_id)) or sha256_hex(versions[(table, history_id)])
            for history_id in ids
        ]
        if len(ids) != count or seal_hash(previous, table, number, hashes) != sha256:
            problems.append(
                f"{table} seal {number} (history ids {after + 1} to {last}): "
                "its rows do not give its hash"
            )
        checked += 1
        before = seals.get((table, number - 1))
        if before is not None and (before[4] != previous or before[1] != after):
            problems.append(f"{table} seal {number} does not follow seal {number - 1}")
    known = {info[4] for info in seals.values()}
    problems += [f"expected seal {sha} is not in the file" for sha in expected if sha not in known]
    for problem in problems:
        print(f"BROKEN {problem}")
    print(
        f"{len(versions)} versions; {checked} seals recomputed, {partial} only partly in this "
        f"file; {unsealed} lines not sealed yet; {len(sealed_as)} versions redacted under PP 4; "
        f"{len(problems)} problems."
    )
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="a history export downloaded with seals")
    parser.add_argument(
        "--complete", action="store_true", help="the export has every day and every record"
    )
    parser.add_argument("--expect", action="append", default=[], metavar="SEAL_SHA256")
    arguments = parser.parse_args()
    return verify(arguments.csv, arguments.expect, complete=arguments.complete)


if __name__ == "__main__":
    sys.exit(main())
