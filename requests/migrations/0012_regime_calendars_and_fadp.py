"""T4 revised and R3's new law: each regime names its holiday calendar and whether its
deadlines move at all, and Switzerland's FADP is a regime row.

Regimes counsel added themselves keep the "US" calendar the schema migration gave them; counsel
checks them in the admin (saving one there recomputes its open requests). Open deadlines are
recomputed after `migrate` by `manage.py recompute_dsr_deadlines` (README), which saves each
request with a history row: a migration cannot, it has no model methods and no signals."""

from django.db import migrations
from django.utils import timezone

# code: (holiday calendar, deadlines move off weekends and holidays)
CALENDARS = {
    "gdpr": ("IE", True),
    "uk-gdpr": ("GB", True),
    "fadp": ("CH", True),
    "ccpa": ("US", False),
    "us-state": ("US", False),
    "lgpd": ("BR", False),
}
FADP = {
    "code": "fadp",
    "name": "FADP (Switzerland)",
    "response_value": 30,
    "response_unit": "days",
    # FADP art. 25(7), DPO art. 18: extendable if the data subject is told the reasons and the
    # new time limit; the law fixes no length, so 30 days is the house default counsel may edit.
    "extension_value": 30,
    "extension_unit": "days",
    "acknowledge_business_days": None,
    "holiday_country": "CH",
    "holiday_subdivision": "",
    "moves_off_weekends": True,
    "source": "FADP art. 25(7); DPO art. 18 (extension with notice of the reasons)",
}
FIELDS = (
    "code",
    "name",
    "response_value",
    "response_unit",
    "extension_value",
    "extension_unit",
    "acknowledge_business_days",
    "moves_off_weekends",
    "holiday_country",
    "holiday_subdivision",
    "source",
)


def _history(HistoricalRegime, regime, history_type, reason):
    # Migrations use historical models without simple-history's signals: write the history
    # row ourselves (H1).
    HistoricalRegime.objects.create(
        id=regime.id,
        **{name: getattr(regime, name) for name in FIELDS},
        history_date=timezone.now(),
        history_type=history_type,
        history_change_reason=reason,
        history_actor="task: migration",
        history_record=regime.name,
    )


def forwards(apps, schema_editor):
    Regime = apps.get_model("requests", "Regime")
    HistoricalRegime = apps.get_model("requests", "HistoricalRegime")
    if not Regime.objects.filter(code="fadp").exists():
        fadp = Regime(**FADP)
        fadp.save()
        _history(HistoricalRegime, fadp, "+", "Seeded by migration: Switzerland's FADP (R3)")
    for regime in Regime.objects.filter(code__in=CALENDARS):
        country, moves = CALENDARS[regime.code]
        if (regime.holiday_country, regime.moves_off_weekends) == (country, moves):
            continue
        regime.holiday_country, regime.moves_off_weekends = country, moves
        regime.save()
        _history(
            HistoricalRegime,
            regime,
            "~",
            f"T4 revised: holiday calendar {country}, deadlines "
            f"{'move' if moves else 'do not move'} off weekends and holidays",
        )


class Migration(migrations.Migration):
    dependencies = [("requests", "0011_regime_calendars_customer_notice")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
