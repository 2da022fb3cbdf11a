"""The privacy laws whose response clocks the portal knows (DOMAIN.md R3). Adding a law later
is adding a row in the admin, not a migration."""

from django.db import migrations

REGIMES = [
    # code, name, response, unit, extension, extension unit, acknowledge (business days), source
    ("gdpr", "GDPR (EU)", 1, "months", 2, "months", None, "GDPR art. 12(3)"),
    ("uk-gdpr", "UK GDPR", 1, "months", 2, "months", None, "UK GDPR art. 12(3)"),
    ("ccpa", "CCPA / CPRA (California)", 45, "days", 45, "days", 10, "Cal. Code Regs. tit. 11, 7021"),
    ("us-state", "Other US state privacy law", 45, "days", 45, "days", None, "e.g. Virginia CDPA 59.1-577"),
    ("lgpd", "LGPD (Brazil)", 15, "days", 0, "days", None, "LGPD art. 19 II (access)"),
]


def seed(apps, schema_editor):
    Regime = apps.get_model("requests", "Regime")
    HistoricalRegime = apps.get_model("requests", "HistoricalRegime")
    from django.utils import timezone

    for code, name, value, unit, ext, ext_unit, ack, source in REGIMES:
        regime, created = Regime.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "response_value": value,
                "response_unit": unit,
                "extension_value": ext,
                "extension_unit": ext_unit,
                "acknowledge_business_days": ack,
                # T4: a statutory deadline on a weekend or public holiday moves to the next
                # working day.
                "moves_off_weekends": True,
                "source": source,
            },
        )
        if created:
            # Migrations use historical models without simple-history's signals: write the
            # "created" history row ourselves (H1).
            HistoricalRegime.objects.create(
                id=regime.id,
                code=regime.code,
                name=regime.name,
                response_value=regime.response_value,
                response_unit=regime.response_unit,
                extension_value=regime.extension_value,
                extension_unit=regime.extension_unit,
                acknowledge_business_days=regime.acknowledge_business_days,
                moves_off_weekends=regime.moves_off_weekends,
                source=regime.source,
                history_date=timezone.now(),
                history_type="+",
                history_change_reason="Seeded by migration",
                history_actor="task: migration",
            )


class Migration(migrations.Migration):
    dependencies = [("requests", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
