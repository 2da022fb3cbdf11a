"""The evidence pack (issue 17; H2, H3, R6): one ZIP for one customer and one period, with a
summary PDF, the documents, a CSV per section, the history seals and a manifest of hashes."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from pypdf import PdfReader

from customers.models import Customer
from harmonyze_portal.customer_page import Entry
from harmonyze_portal.evidence import build_pack, in_period
from harmonyze_portal.models import EvidencePack, HistorySeal, PackStatus
from requests.models import DemandView
from tests.audits.builders import make_audit_request
from tests.customers.builders import (
    make_assistance,
    make_breach,
    make_certificate,
    make_dpa,
    make_notice,
)
from tests.requests.builders import make_demand, make_dsr

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]
NOW = "2027-01-10 15:00:00Z"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ADD = "/admin/harmonyze_portal/evidencepack/add/"
AGENCY = "FBI Seattle Field Office"
VERIFIER = Path(__file__).resolve().parents[2] / "docs" / "verify_history_export.py"


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def records(acme: Customer, globex: Customer, media: Path) -> Customer:
    """acme with records in three areas, a signed DPA and a certificate; globex with its own."""
    dpa = make_dpa(acme, version="2024-03", effective=date(2024, 3, 1))
    dpa.signed_file.save("signed.pdf", ContentFile(MINIMAL_PDF), save=False)
    dpa.save()
    breach = make_breach(aware_at=datetime(2026, 1, 31, 15, tzinfo=UTC))
    make_notice(breach, acme, notified_at=datetime(2026, 2, 1, 15, tzinfo=UTC))
    make_notice(breach, globex)
    make_certificate(acme, requested=date(2026, 5, 4))
    make_assistance(acme, received=date(2026, 6, 1))
    make_assistance(acme, received=date(2025, 6, 1), status="done")  # before the period
    make_dsr(customer=acme, email="jane@example.org", received=date(2026, 3, 2))
    make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 4, 15))
    make_demand(customers=(acme,), agency=AGENCY, received_on=date(2026, 3, 2), compelled=True)
    return acme


def new_pack(customer: Customer, user: Any, *, include: bool = False) -> EvidencePack:
    pack = EvidencePack(
        customer=customer,
        period_start=YEAR[0],
        period_end=YEAR[1],
        include_law_enforcement=include,
        requested_by=user,
    )
    pack.full_clean()
    pack.save()
    return pack


def built(customer: Customer, user: Any, *, include: bool = False) -> EvidencePack:
    with time_machine.travel(NOW, tick=False):
        return build_pack(new_pack(customer, user, include=include), today=date(2027, 1, 10))


def opened(pack: EvidencePack) -> zipfile.ZipFile:
    return zipfile.ZipFile(pack.file.path)


def pdf_text(archive: zipfile.ZipFile) -> str:
    reader = PdfReader(io.BytesIO(archive.read("summary.pdf")))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pack_holds_summary_sections_documents_seals_and_a_manifest_that_checks(
    counsel: Any, records: Customer
) -> None:
    pack = built(records, counsel)
    assert pack.status == PackStatus.DONE
    assert pack.progress == 100
    assert pack.sha256 == hashlib.sha256(Path(pack.file.path).read_bytes()).hexdigest()
    with opened(pack) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        listed = {item["path"]: item for item in manifest["files"]}
        # Every file but the manifests is listed, with the right hash and size.
        assert set(listed) == names - {"manifest.json", "manifest.csv"}
        for path, item in listed.items():
            data = archive.read(path)
            assert hashlib.sha256(data).hexdigest() == item["sha256"], path
            assert len(data) == item["size"], path
        manifest_csv = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
        assert {row["path"]: row["sha256"] for row in manifest_csv} == {
            path: item["sha256"] for path, item in listed.items()
        }
        # The documents themselves: the signed DPA, byte for byte.
        documents = [name for name in names if name.startswith("documents/dpas/")]
        assert len(documents) == 1
        assert archive.read(documents[0]) == MINIMAL_PDF
        # One CSV per section, the rule counts and the history seals.
        for key in ("dpas", "breach-notices", "certificates", "assistance", "audits"):
            assert any(n.startswith(f"sections/{key}") for n in names), key
        assert "rules.csv" in names
        seals = list(csv.DictReader(io.StringIO(archive.read("history-seals.csv").decode())))
        assert seals, "the pack seals the history and carries the seals (H3)"
        assert {row["sha256"] for row in seals} == set(
            HistorySeal.objects.values_list("sha256", flat=True)
        )
        text = pdf_text(archive)
    for heading in (
        "Evidence pack: Acme",
        "DPAs and transfer terms",
        "Breach notices",
        "Certificates of deletion",
        "Data subject requests redirected to it",
        "Audit requests",
        "Assistance requests",
        "Rule by rule",
    ):
        assert heading in text, heading
    assert "2024-03" in text  # the DPA in force, effective before the period


def test_each_record_history_in_the_pack_carries_its_seals_and_checks_without_the_portal(
    counsel: Any, records: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """H2, H3: the customer's and each shown record's history, with the seal columns, which the
    README's standalone checker verifies from the file alone."""
    spec = importlib.util.spec_from_file_location("verify_history_export", VERIFIER)
    assert spec is not None
    assert spec.loader is not None
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    pack = built(records, counsel)
    dpa = records.dpas.get()
    with opened(pack) as archive:
        names = archive.namelist()
        assert f"history/customers.customer-{records.pk}.csv" in names
        path = tmp_path / "dpa.csv"
        path.write_bytes(archive.read(f"history/customers.dpa-{dpa.pk}.csv"))
    lines = list(csv.DictReader(io.StringIO(path.read_text())))
    assert lines
    assert all(line["seal sha256"] for line in lines)  # sealed by the pack's own run
    assert checker.verify(str(path), []) == 0, capsys.readouterr().out


def test_a_document_missing_from_storage_is_listed_not_fatal(
    counsel: Any, records: Customer
) -> None:
    dpa = records.dpas.get()
    Path(dpa.signed_file.path).unlink()
    pack = built(records, counsel)
    with opened(pack) as archive:
        missing = list(csv.DictReader(io.StringIO(archive.read("documents/missing.csv").decode())))
    assert [(row["model"], row["record"]) for row in missing] == [("customers.dpa", str(dpa.pk))]


def test_rows_outside_the_period_and_other_customers_stay_out(
    counsel: Any, records: Customer
) -> None:
    pack = built(records, counsel)
    with opened(pack) as archive:
        assistance = list(
            csv.DictReader(io.StringIO(archive.read("sections/assistance.csv").decode()))
        )
        breaches = list(
            csv.DictReader(io.StringIO(archive.read("sections/breach-notices.csv").decode()))
        )
    assert [row["date"] for row in assistance] == ["2026-06-01"]
    assert len(breaches) == 1  # acme's notice, not globex's


def test_rule_counts_say_on_time_late_and_show_rules_without_records(
    counsel: Any, records: Customer
) -> None:
    pack = built(records, counsel)
    with opened(pack) as archive:
        rules = list(csv.DictReader(io.StringIO(archive.read("rules.csv").decode())))
        text = pdf_text(archive)
    c5 = next(row for row in rules if row["rule"] == "C5")
    assert (c5["events"], c5["on_time"], c5["late"]) == ("1", "1", "0")
    assert any(row["events"] == "0" for row in rules)
    assert "No record in the period" in text


def test_law_enforcement_stays_out_unless_counsel_includes_it(
    counsel: Any, records: Customer
) -> None:
    """R6: not in the pack by default, even for counsel; in it, and logged, when ticked."""
    plain = built(records, counsel)
    with opened(plain) as archive:
        assert AGENCY not in pdf_text(archive)
        assert not any("demand" in name for name in archive.namelist())
    assert not DemandView.objects.exists()

    full = built(records, counsel, include=True)
    with opened(full) as archive:
        names = archive.namelist()
        assert any(name.startswith("sections/demands") for name in names), names
        assert "Law-enforcement demands" in pdf_text(archive)
    assert DemandView.objects.filter(user=counsel).exists()


def test_analyst_may_build_but_not_include_law_enforcement_on_any_path(
    analyst: Any, records: Customer
) -> None:
    """R6 lives on the model: clean() explains it, save() refuses it whatever calls it."""
    with pytest.raises(ValidationError) as refused:
        new_pack(records, analyst, include=True)
    assert "Only privacy counsel" in str(refused.value)
    pack = EvidencePack(
        customer=records,
        period_start=YEAR[0],
        period_end=YEAR[1],
        include_law_enforcement=True,
        requested_by=analyst,
    )
    with pytest.raises(PermissionDenied):
        pack.save()
    assert built(records, analyst).status == PackStatus.DONE


def test_a_period_that_ends_before_it_starts_is_refused_by_the_model_and_the_database(
    counsel: Any, acme: Customer
) -> None:
    pack = EvidencePack(
        customer=acme,
        period_start=date(2026, 12, 31),
        period_end=date(2026, 12, 30),
        requested_by=counsel,
    )
    with pytest.raises(ValidationError) as refused:
        pack.full_clean()
    assert "ends (30 Dec 2026) before it starts (31 Dec 2026)" in str(refused.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        pack.save()
    # One day is a period.
    pack.period_end = date(2026, 12, 31)
    pack.full_clean()
    # The last day the calendar has would overflow the period's end (a 400, not a 500).
    pack.period_end = date.max
    with pytest.raises(ValidationError, match="Give a last day before"):
        pack.full_clean()


def test_admin_add_queues_the_build_and_records_who_asked(
    counsel: Any, records: Customer, signed_in: SignIn, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(counsel)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(
            ADD,
            {"customer": records.pk, "period_start": "2026-01-01", "period_end": "2026-12-31"},
        )
    assert len(queued) == 1
    assert response.status_code == 302
    assert response["Location"] == "/admin/harmonyze_portal/evidencepack/"
    pack = EvidencePack.objects.get()
    assert pack.requested_by == counsel
    assert pack.status == PackStatus.DONE  # the test task backend runs it at once
    assert pack.history.filter(history_user=counsel).exists()
    download = client.get(f"/admin/harmonyze_portal/evidencepack/{pack.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"  # type: ignore[attr-defined]
    # The pack is served by its admin, never as a plain staff file.
    assert client.get(f"/staff/files/{pack.file.name}").status_code == 404


def test_admin_refuses_a_reversed_period_with_a_message_and_no_row(
    counsel: Any, acme: Customer, signed_in: SignIn
) -> None:
    response = signed_in(counsel).post(
        ADD, {"customer": acme.pk, "period_start": "2026-12-31", "period_end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "before it starts" in response.content.decode()
    assert not EvidencePack.objects.exists()


def test_admin_refuses_law_enforcement_to_an_analyst(
    analyst: Any, acme: Customer, signed_in: SignIn
) -> None:
    response = signed_in(analyst).post(
        ADD,
        {
            "customer": acme.pk,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "include_law_enforcement": "on",
        },
    )
    assert response.status_code == 200
    assert "Only privacy counsel may include" in response.content.decode()
    assert not EvidencePack.objects.exists()


def test_the_model_refuses_a_pack_asked_for_by_a_viewer_on_any_path(
    viewer: Any, acme: Customer
) -> None:
    pack = EvidencePack(
        customer=acme, period_start=YEAR[0], period_end=YEAR[1], requested_by=viewer
    )
    with pytest.raises(PermissionDenied, match="Only counsel and analysts"):
        pack.save()
    assert not EvidencePack.objects.exists()


def test_viewer_and_outsider_cannot_build(
    viewer: Any, outsider: Any, acme: Customer, signed_in: SignIn
) -> None:
    data = {"customer": acme.pk, "period_start": "2026-01-01", "period_end": "2026-12-31"}
    assert signed_in(viewer).post(ADD, data).status_code == 403
    assert signed_in(outsider).post(ADD, data).status_code in (302, 403)
    assert not EvidencePack.objects.exists()


def test_only_counsel_sees_a_pack_with_law_enforcement(
    counsel: Any, analyst: Any, records: Customer, signed_in: SignIn
) -> None:
    pack = built(records, counsel, include=True)
    client = signed_in(analyst)
    assert client.get(f"/admin/harmonyze_portal/evidencepack/{pack.pk}/download/").status_code in (
        404,
        403,
    )
    assert AGENCY not in client.get("/admin/harmonyze_portal/evidencepack/").content.decode()


def test_the_customer_page_offers_the_pack_to_those_who_may_build(
    analyst: Any, viewer: Any, acme: Customer, signed_in: SignIn
) -> None:
    page = f"/staff/customers/{acme.pk}/"
    assert "Build an evidence pack" in signed_in(analyst).get(page).content.decode()
    assert "Build an evidence pack" not in signed_in(viewer).get(page).content.decode()


def test_the_command_builds_a_pack_and_refuses_bad_input(
    counsel: Any, analyst: Any, records: Customer
) -> None:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "build_evidence_pack",
            "--customer", records.legal_name, "--from", "2026-01-01", "--to", "2026-12-31",
            "--by", counsel.username, stdout=out,
        )  # fmt: skip
    pack = EvidencePack.objects.get()
    assert pack.sha256 in out.getvalue()
    assert pack.history.filter(history_user=counsel).exists()
    bad = [
        (["--from", "2026-12-31", "--to", "2026-01-01", "--by", counsel.username], "before it"),
        (["--from", "2026-13-01", "--to", "2026-12-31", "--by", counsel.username], "not a date"),
        (
            ["--from", "2026-01-01", "--to", "2026-12-31", "--by", analyst.username,
             "--include-law-enforcement"],
            "Only privacy counsel",
        ),
    ]  # fmt: skip
    for arguments, message in bad:
        with pytest.raises(CommandError, match=message):
            call_command("build_evidence_pack", "--customer", str(records.pk), *arguments)
    assert EvidencePack.objects.count() == 1


def test_a_failed_build_is_recorded_as_failed(
    counsel: Any, records: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harmonyze_portal import evidence

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(evidence, "render_pdf", broken)
    pack = new_pack(records, counsel)
    with pytest.raises(RuntimeError):
        build_pack(pack, today=date(2027, 1, 10))
    pack.refresh_from_db()
    assert pack.status == PackStatus.FAILED
    assert "renderer down" in pack.error
    assert not pack.file


@pytest.mark.parametrize(
    ("on", "due", "done", "kept"),
    [
        (date(2026, 1, 1), None, True, True),  # the first day of the period
        (date(2025, 12, 31), None, True, False),  # the day before, finished
        (date(2026, 12, 31), None, True, True),  # the last day
        (date(2027, 1, 1), None, False, False),  # the day after
        (date(2025, 12, 1), date(2026, 1, 1), True, True),  # fell due on the first day
        (date(2024, 3, 1), None, False, True),  # still running (a DPA in force)
        (None, None, False, True),  # undated and running
    ],
)
def test_which_rows_belong_to_the_period(
    on: date | None, due: date | None, done: bool, kept: bool
) -> None:
    entry = Entry(what="x", url="/", on=on, due=due, done=done)
    assert in_period(entry, *YEAR) is kept


def _report_with_file() -> Any:
    from tests.audits.builders import make_report

    report = make_report(period_start=date(2025, 1, 1), period_end=date(2025, 12, 31))
    report.file.save("soc2-2025.pdf", ContentFile(MINIMAL_PDF), save=False)
    report.save()
    return report


def test_rule_a5_the_report_offered_in_lieu_travels_with_the_audit_request(
    counsel: Any, acme: Customer, media: Path
) -> None:
    report = _report_with_file()
    audit = make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 4, 15))
    audit.refresh_from_db()
    assert audit.type2_report == report  # A5: within twelve months of the request

    with opened(built(acme, counsel)) as archive:
        [document] = [n for n in archive.namelist() if n.startswith("documents/audits/")]
        assert document.startswith(f"documents/audits/auditreport/{report.pk}-file-")
        assert archive.read(document) == MINIMAL_PDF
        listed = {item["path"] for item in json.loads(archive.read("manifest.json"))["files"]}
        assert document in listed


def test_rule_a5_the_report_stays_out_for_a_requester_who_may_not_view_reports(
    counsel: Any, acme: Customer, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harmonyze_portal.evidence import _documents, section_parts

    _report_with_file()
    make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 4, 15))
    pack = new_pack(acme, counsel)
    parts = section_parts(pack, date(2027, 1, 10))

    assert any(folder.startswith("audits/") for folder, _, _ in _documents(pack, parts))
    allowed = counsel.has_perm
    monkeypatch.setattr(
        counsel,
        "has_perm",
        lambda perm, obj=None: perm != "audits.view_auditreport" and allowed(perm),
    )
    assert not any(folder.startswith("audits") for folder, _, _ in _documents(pack, parts))
