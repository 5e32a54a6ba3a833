"""Delivering webhooks: a POST of the run's JSON, signed with the workflow's shared secret
(``X-Leadcycle-Signature: sha256=<HMAC-SHA256 of the body>``, ``X-Leadcycle-Delivery: <id>``
for the receiver to drop a repeat). A failure (no answer in 5 s, or a status other than 2xx)
is logged on the delivery and retried with exponential backoff — 30 s, 1, 2, 4, 8 minutes —
then marked failed. The triggering change committed long before: nothing waits for this."""

import datetime
import urllib.error
import urllib.request

from django.db import transaction
from django.utils import timezone

from leadcycle.workflows.models import WebhookDelivery

MAX_ATTEMPTS = 6
TIMEOUT = 5


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=30 * 2 ** max(attempts - 1, 0))


def webhook_deliver(delivery_id: int, *, now: datetime.datetime | None = None) -> str:
    """One attempt, if the delivery is pending and due; returns its status after."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return "gone"
        now = now or timezone.now()
        if delivery.next_attempt_at > now:
            return delivery.status
        delivery.attempts += 1
        request = urllib.request.Request(  # noqa: S310 - http or https, checked on save
            delivery.url,
            data=delivery.body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Leadcycle-Webhook/1",
                "X-Leadcycle-Signature": delivery.signature,
                "X-Leadcycle-Delivery": str(delivery.pk),
            },
        )
        error = ""
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                delivery.response_status = response.status
        except urllib.error.HTTPError as exc:
            delivery.response_status, error = exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if not error:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, ""
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.last_error = "failed", f"gave up: {error}"[:500]
        else:
            delivery.last_error = error[:500]
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save()
    if delivery.status == "pending":
        _retry_later(delivery)
    return delivery.status


def _retry_later(delivery: WebhookDelivery) -> None:
    """With a backend that can wait (the database worker, RQ), the retry is queued for its time;
    otherwise ``webhooks_deliver_due`` (``leadcycle workflows tick``) picks it up."""
    from django_tasks.exceptions import InvalidTaskError

    from leadcycle.workflows.tasks import deliver_webhook

    try:
        deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    except InvalidTaskError:  # the backend cannot defer: the tick delivers it
        return


def webhooks_deliver_due(now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts: dict[str, int] = {}
    due = WebhookDelivery.objects.filter(status="pending", next_attempt_at__lte=now)
    for pk in list(due.order_by("next_attempt_at").values_list("id", flat=True)[:500]):
        status = webhook_deliver(pk, now=now)
        counts[status] = counts.get(status, 0) + 1
    return counts
