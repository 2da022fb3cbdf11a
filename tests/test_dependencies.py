"""Our app `requests` shadows the PyPI library of that name (STYLE.md): nothing may need it."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parent.parent


def distributions_requiring(target: str) -> list[str]:
    """Installed distributions whose unconditional (or environment-matching) requirements
    name ``target``. Optional extras that were not installed do not count."""
    wanted = canonicalize_name(target)
    found = []
    for dist in metadata.distributions():
        for line in dist.requires or []:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) != wanted:
                continue
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            found.append(f"{dist.metadata['Name']} requires {line!r}")
    return found


def test_no_installed_distribution_requires_the_pypi_requests_library() -> None:
    found = distributions_requiring("requests")
    assert not found, (
        "These installed packages need the PyPI 'requests' library, which our app named "
        "'requests' hides from every module in the process (see ../shared/STYLE.md). Use httpx "
        "or the standard library instead:\n  " + "\n  ".join(found)
    )


def test_the_pypi_requests_library_is_not_installed() -> None:
    names = {canonicalize_name(dist.metadata["Name"]) for dist in metadata.distributions()}
    assert "requests" not in names, "uv.lock pulls in the PyPI 'requests' library; remove it."


def test_the_check_would_catch_a_dependency() -> None:
    # pytest itself requires packaging: the same scan finds it, so the check above can fail.
    assert any(
        entry.startswith("pytest requires") for entry in distributions_requiring("packaging")
    )


def test_import_requests_is_our_app() -> None:
    import requests

    assert Path(requests.__file__).resolve().is_relative_to(PROJECT)
