"""A task assigned to someone else notifies them through a background task.

Covered on every task backend Leadcycle runs on: inline (the suite's default), the database
queue with its worker, and RQ on Redis with a real worker (marked ``redis``).
"""

import pytest
from django.core.management import call_command
from django.test import override_settings

from leadcycle.crm.services import task_create, task_update
from leadcycle.notifications.models import Notification
from leadcycle.testing.factories import UserFactory


@pytest.fixture
def manager_and_seller(db):
    return UserFactory(username="boss", role="sales_manager"), UserFactory(
        username="sam", role="seller"
    )


@pytest.mark.django_db(transaction=True)
def test_assigning_a_task_notifies_the_assignee(manager_and_seller):
    manager, seller = manager_and_seller
    # when the manager assigns a task to the seller
    task = task_create(by=manager, data={"subject": "Call Anna", "assignee_id": seller.pk})
    # then the seller has one unread notification linking to the task, the manager none
    notes = list(Notification.objects.filter(user=seller))
    assert [n.message for n in notes] == ["Task assigned to you: Call Anna"]
    assert notes[0].url == f"/tasks/{task.pk}/"
    assert not Notification.objects.filter(user=manager).exists()


@pytest.mark.django_db(transaction=True)
def test_self_assignment_and_unchanged_assignee_do_not_notify(manager_and_seller):
    manager, seller = manager_and_seller
    task = task_create(by=seller, data={"subject": "My own", "assignee_id": seller.pk})
    task_update(task=task, by=manager, data={"subject": "My own, renamed"})
    assert Notification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rolled_back_assignment_notifies_nobody(manager_and_seller):
    from django.db import transaction

    manager, seller = manager_and_seller
    with pytest.raises(RuntimeError), transaction.atomic():
        task_create(by=manager, data={"subject": "Never", "assignee_id": seller.pk})
        raise RuntimeError("abort")
    assert Notification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_database_queue_worker_delivers_the_notification(manager_and_seller):
    manager, seller = manager_and_seller
    task_create(by=manager, data={"subject": "Queued call", "assignee_id": seller.pk})
    # queued, not yet run
    assert Notification.objects.count() == 0
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert Notification.objects.filter(user=seller, message__contains="Queued call").count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rq_worker_on_redis_delivers_the_notification(manager_and_seller):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (start it, or deselect -m 'not redis')")
    client.flushdb()
    rq_settings = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:6379/15"}},
    }
    with override_settings(**rq_settings):
        manager, seller = manager_and_seller
        task_create(by=manager, data={"subject": "Redis call", "assignee_id": seller.pk})
        assert client.llen("rq:queue:default") == 1
        assert Notification.objects.count() == 0
        # a real RQ worker, in this process so it sees the test database
        call_command(
            "rqworker",
            "default",
            "--burst",
            "--worker-class",
            "rq.worker.SimpleWorker",
            "--job-class",
            "django_tasks_rq.backend.Job",
        )
    assert Notification.objects.filter(user=seller, message__contains="Redis call").count() == 1
    client.flushdb()


@pytest.mark.django_db(transaction=True)
def test_the_assignee_sees_the_count_and_marks_all_read(client, manager_and_seller):
    manager, seller = manager_and_seller
    task_create(by=manager, data={"subject": "Call Bob", "assignee_id": seller.pk})
    client.force_login(seller)
    page = client.get("/").content.decode()
    assert 'id="nav-notifications"' in page and '<span class="badge count">1</span>' in page
    listing = client.get("/notifications/").content.decode()
    assert "Task assigned to you: Call Bob" in listing
    client.post("/notifications/read/")
    assert '<span class="badge count">' not in client.get("/").content.decode()
    assert Notification.objects.get(user=seller).read_at is not None
