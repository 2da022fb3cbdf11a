"""Data migration for several notices per affected customer (DOMAIN.md C5, issue 14).

Until now an affected customer had one "notified at" and "notified to". Each one recorded
becomes that customer's first notice, sent at that time to those addresses, with the Message-ID
it had. The portal did not keep the text of those notices, so the notice says so and is marked
as recorded at the upgrade (the one case the DPA 7 statement check lets through). Nothing is
sent. Every row written here leaves a history row.
"""

from django.db import migrations
from django.utils import timezone

ACTOR = "migration: several breach notices (issue 14)"
REASON = "First notice recorded at the upgrade from the earlier notified-at record (C5)"
BODY = (
    "[Recorded at the upgrade to several notices per customer (issue 14). This notice was sent "
    "before the portal kept the text of breach notices: its time, recipients and Message-ID come "
    "from the earlier record; its text was not kept.]"
)


def first_notices(apps, schema_editor):
    BreachNotice = apps.get_model("customers", "BreachNotice")
    BreachMessage = apps.get_model("customers", "BreachMessage")
    History = apps.get_model("customers", "HistoricalBreachMessage")
    columns = {field.attname for field in History._meta.concrete_fields}
    now = timezone.now()
    notified = BreachNotice.objects.filter(notified_at__isnull=False).select_related(
        "breach", "customer"
    )
    for affected in notified.order_by("pk"):
        if BreachMessage.objects.filter(affected=affected, kind="first").exists():
            continue
        message = BreachMessage(
            affected=affected,
            kind="first",
            subject=f"Notice of a Personal Data Breach: {affected.breach.title}",
            body=BODY,
            sent_at=affected.notified_at,
            sent_to=affected.notified_to or "(not recorded)",
            message_id=affected.message_id,
            from_upgrade=True,
        )
        message.save()
        # auto_now_add gave the upgrade's time; the notice was queued when it was sent.
        BreachMessage.objects.filter(pk=message.pk).update(queued_at=affected.notified_at)
        message.queued_at = affected.notified_at
        History.objects.create(
            **{
                field.attname: getattr(message, field.attname)
                for field in message._meta.concrete_fields
                if field.attname in columns
            },
            history_date=now,
            history_type="+",
            history_change_reason=REASON,
            history_actor=ACTOR,
            history_record=f"First notice: {affected.breach.title} → {affected.customer.legal_name}",
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_breach_notices_remediation_order_form")]

    operations = [migrations.RunPython(first_notices, migrations.RunPython.noop)]
