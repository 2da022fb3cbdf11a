"""docs/rules.md: every rule the code cites is there, in plain words, with its clause quoted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
# The seeds the rules come from, beside the project where the team keeps them; not shipped.
SEEDS = {
    "DPA": ROOT.parent / "shared/seeds/dpa.txt",
    "PP": ROOT.parent / "shared/seeds/privacy-policy.txt",
}
CITED_IN = ("harmonyze_portal", "customers", "subprocessors", "requests", "audits", "templates")
RULE_ID = re.compile(r"\b[TCSRAH][0-9]\b")
HEADING = re.compile(r"^### ([TCSRAH][0-9])\. (.+)$", re.MULTILINE)
# A quote: "> " lines, then "> — SOURCE clause" (DPA 9, PP 5, SCC Clause 10(a), ...).
QUOTE = re.compile(r"((?:^> (?!— ).+\n)+)^> — (DPA|PP|SCC) (.+)$", re.MULTILINE)
EXPECTED = {
    f"{letter}{n}"
    for letter, last in (("T", 5), ("C", 9), ("S", 7), ("R", 6), ("A", 6), ("H", 3))
    for n in range(1, last + 1)
}


def sections() -> dict[str, str]:
    text = RULES.read_text()
    found = list(HEADING.finditer(text))
    return {
        match.group(1): text[match.end() : nxt.start() if nxt else len(text)]
        for match, nxt in zip(found, [*found[1:], None], strict=True)
    }


def cited_ids() -> dict[str, str]:
    """Each rule ID the code cites, with one place that cites it."""
    cited: dict[str, str] = {}
    for folder in CITED_IN:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".py", ".html", ".txt"} or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                for rule in RULE_ID.findall(line):
                    cited.setdefault(rule, f"{path.relative_to(ROOT)}:{number}")
    return cited


def test_the_document_has_every_rule_once_in_order() -> None:
    ids = HEADING.findall(RULES.read_text())
    assert len(ids) == len({rule for rule, _ in ids})
    assert {rule for rule, _ in ids} == EXPECTED


def test_every_rule_the_code_cites_is_in_the_document() -> None:
    missing = {rule: where for rule, where in cited_ids().items() if rule not in sections()}
    assert missing == {}
    assert len(cited_ids()) > 30  # the search finds the citations at all


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_every_rule_explains_itself_and_quotes_its_clause(rule: str) -> None:
    body = sections()[rule]
    prose = [line for line in body.strip().splitlines() if line and not line.startswith(">")]
    assert len(" ".join(prose)) > 40, f"{rule} needs its meaning in plain words"
    assert QUOTE.search(body), f"{rule} quotes no clause (> text, then > — DPA/PP/SCC clause)"


def quotes(source: str) -> list[tuple[str, str]]:
    found = []
    for body in sections().values():
        for match in QUOTE.finditer(body):
            if match.group(2) == source:
                text = " ".join(line[2:] for line in match.group(1).splitlines())
                found.append((text, match.group(3)))
    return found


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("source", sorted(SEEDS))
def test_quotes_are_word_for_word(source: str) -> None:
    if not SEEDS[source].exists():
        pytest.skip(f"{SEEDS[source]} is not beside the project here")
    seed = normalised(SEEDS[source].read_text())
    # Schedule 2 runs its headings into the text ("Entry control.Technical"): compare loosely.
    seed_loose = seed.replace(".", ". ")
    wrong = [
        (clause, text)
        for text, clause in quotes(source)
        if normalised(text) not in seed and normalised(text) not in normalised(seed_loose)
    ]
    assert quotes(source)
    assert wrong == []
