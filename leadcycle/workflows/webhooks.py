"""Delivering webhooks: a POST of the run's JSON, signed with the workflow's shared secret
(``X-Leadcycle-Signature: sha256=<HMAC-SHA256 of the body>``, ``X-Leadcycle-Delivery: <id>``
for the receiver to drop a repeat). A failure (no answer in 5 s, or a status other than 2xx)
is logged on the delivery and retried with exponential backoff — 30 s, 1, 2, 4, 8 minutes —
then marked failed. The triggering change committed long before: nothing waits for this."""

import datetime
import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leadcycle.workflows.models import WebhookDelivery

MAX_ATTEMPTS = 6
TIMEOUT = 5


class _Refused(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: following it would send the request (as a GET)
    wherever the receiver points, inside the network too."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _refused(url: str) -> str:
    """Why this address may not be called ('' if it may): loopback, private, link-local and
    reserved addresses are refused unless ``LEADCYCLE_WEBHOOK_ALLOW_PRIVATE`` is on."""
    if settings.LEADCYCLE_WEBHOOK_ALLOW_PRIVATE:
        return ""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return "refused: the host does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return "refused: a private or local address (LEADCYCLE_WEBHOOK_ALLOW_PRIVATE)"
    return ""


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
        request = urllib.request.Request(  # noqa: S310 - http or https, checked on save and here
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
        refused = _refused(delivery.url)
        try:
            if refused:
                raise _Refused(refused)
            with _OPENER.open(request, timeout=TIMEOUT) as response:
                delivery.response_status = response.status
        except _Refused as exc:
            error = str(exc)
            delivery.attempts = MAX_ATTEMPTS  # an address rule: retrying changes nothing
        except urllib.error.HTTPError as exc:
            delivery.response_status, error = exc.code, f"HTTP {exc.code}"
        except TimeoutError:
            error = f"no answer within {TIMEOUT} s"
        except (urllib.error.URLError, OSError, ValueError):
            # Not the system's message: it would tell who reads the log about ports inside.
            error = "could not connect"
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
