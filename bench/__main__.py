"""Run every benchmark: `make bench` (or `uv run python -m bench [name ...]`).

Each prints its figures as a ratio against a baseline measured in the same run, because these
machines are noisy and absolute times mean little.
"""

from __future__ import annotations

import sys

from bench import changelist, desk, exports, history, notices, public_form, public_list, save

BENCHMARKS = {
    "desk": desk.main,
    "notices": notices.main,
    "public_list": public_list.main,
    "history": history.main,
    "save": save.main,
    "exports": exports.main,
    "public_form": public_form.main,
    "changelist": changelist.main,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    failed = 0
    for name in names:
        failed += BENCHMARKS[name]()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
