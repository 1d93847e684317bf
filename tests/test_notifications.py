"""Notifications: the in-app inbox, and email/webhook copies that retry without losing the inbox copy."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from exchange.notifications import services
from exchange.notifications.models import Notification, SendState

from .conftest import auth

API = "/api/v1"


@pytest.fixture
def provider(user, stats_bureau):
    return user("stats", "provider", stats_bureau)


def test_a_department_notification_reaches_its_users_inbox(client, session, provider, stats_bureau, now):
    services.notify(session, kind="demand_routed", title="有新的数据需求待答复", body="XQ-1", now=now,
                    channels=services.Channels(), department_id=stats_bureau.id)
    session.commit()
    inbox = client.get(f"{API}/notifications?unread=true", headers=auth(provider[1])).get_json()
    assert [n["title"] for n in inbox["items"]] == ["有新的数据需求待答复"]


def test_other_departments_do_not_see_it(client, session, user, transport, stats_bureau, now):
    services.notify(session, kind="k", title="t", body="b", now=now, channels=services.Channels(),
                    department_id=stats_bureau.id)
    session.commit()
    outsider = user("traffic", "provider", transport)[1]
    assert client.get(f"{API}/notifications", headers=auth(outsider)).get_json()["total"] == 0


def test_marking_read_moves_it_out_of_unread(client, session, provider, stats_bureau, now):
    note = services.notify(session, kind="k", title="t", body="b", now=now, channels=services.Channels(),
                           department_id=stats_bureau.id)
    session.commit()
    client.post(f"{API}/notifications/{note.id}/read", headers=auth(provider[1]))
    assert client.get(f"{API}/notifications?unread=true", headers=auth(provider[1])).get_json()["total"] == 0


class Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    Hook.received, Hook.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_webhook_receives_the_notification_as_json(session, stats_bureau, webhook, now):
    channels = services.Channels(webhook_url=webhook)
    note = services.notify(session, kind="objection_raised", title="数据异议待答复", body="b", now=now,
                           channels=channels, department_id=stats_bureau.id, object_type="objection", object_id=7)
    session.flush()
    assert services.dispatch(session, now=now, channels=channels) == {"sent": 1, "retrying": 0, "failed": 0}
    assert Hook.received[0]["id"] == note.id and Hook.received[0]["object"] == {"type": "objection", "id": 7}


def test_a_failing_webhook_is_retried_with_backoff_and_the_inbox_copy_stays(session, stats_bureau, webhook, now):
    Hook.status = 500
    channels = services.Channels(webhook_url=webhook)
    note = services.notify(session, kind="k", title="t", body="b", now=now, channels=channels,
                           department_id=stats_bureau.id)
    session.flush()
    assert services.dispatch(session, now=now, channels=channels)["retrying"] == 1
    send = note.sends[0]
    assert (send.attempts, send.next_attempt_at) == (1, now + dt.timedelta(seconds=services.BACKOFF[0]))
    assert services.dispatch(session, now=now, channels=channels)["retrying"] == 0  # not due yet
    Hook.status = 200
    later = now + dt.timedelta(hours=1)
    assert services.dispatch(session, now=later, channels=channels)["sent"] == 1
    assert send.state is SendState.SENT and note.read_at is None


def test_an_email_that_keeps_failing_is_given_up_after_the_last_attempt(session, user, stats_bureau, now):
    account, _ = user("stats", "provider", stats_bureau)
    account.email = "stats@taizhou.example"
    channels = services.Channels(smtp_url="smtp://mail.example:25/exchange@taizhou.example")
    note = services.notify(session, kind="k", title="t", body="b", now=now, channels=channels,
                           department_id=stats_bureau.id)
    session.flush()

    def refuse(send):
        raise ConnectionRefusedError("SMTP server down")

    moment = now
    for _ in range(services.MAX_ATTEMPTS):
        services.dispatch(session, now=moment, channels=channels, senders={"email": refuse})
        moment += dt.timedelta(days=1)
    send = note.sends[0]
    assert (send.target, send.state, send.attempts) == ("stats@taizhou.example", SendState.FAILED, services.MAX_ATTEMPTS)
    assert "SMTP server down" in send.last_error


def test_reminders_go_once_to_the_department_that_must_answer(session, stats_bureau, now):
    waiting = [("demand", 1, stats_bureau.id, "数据需求《甲》待答复", now + dt.timedelta(hours=20)),
               ("objection", 2, stats_bureau.id, "数据异议待答复", now - dt.timedelta(days=1)),
               ("application", 3, stats_bureau.id, "共享申请《乙》待审批", now + dt.timedelta(days=9))]
    soon = now + dt.timedelta(days=2)
    first = services.remind(session, now=now, soon=soon, channels=services.Channels(), waiting=waiting)
    session.flush()
    again = services.remind(session, now=now, soon=soon, channels=services.Channels(), waiting=waiting)
    kinds = {(n.kind, n.object_type) for n in session.scalars(select(Notification))}
    assert (first, again) == (2, 0)
    assert kinds == {("deadline_soon", "demand"), ("overdue", "objection")}
