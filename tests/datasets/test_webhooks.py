"""Webhooks on publish: HMAC-signed POSTs to a real local HTTP server, retried with backoff."""
import hashlib
import hmac
import ipaddress
import json
from datetime import timedelta

import pytest
from django.utils import timezone

import factories as f
from http_receiver import Receiver
from parley.datasets.build import release_build
from parley.datasets.models import WebhookDelivery
from parley.datasets.services import release_create
from parley.datasets.webhooks import (UNREACHABLE, webhook_create, webhook_deliveries_due,
                                      webhook_delivery_attempt, webhook_signature)

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver_factory(settings):
    """Local receivers on 127.0.0.1, which only the allow-list lets a webhook reach."""
    settings.PARLEY_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    made = []

    def make(statuses=(), tls=None):
        receiver = Receiver(statuses, tls=tls)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def corpus():
    de = f.locale("de-DE")
    alarm = f.intent("alarm_set", "alarm")
    f.utterance(de, alarm, "weck mich", status="promoted", partition="test", source="collected")


def publish():
    return release_build(release=release_create(name="core", actor="test"), actor="test")


def test_publishing_posts_a_signed_body_once(corpus, receiver_factory, django_capture_on_commit_callbacks):
    receiver = receiver_factory()
    hook, secret = webhook_create(name="trainer", url=receiver.url, actor="test")
    with django_capture_on_commit_callbacks(execute=True):
        release = publish()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    signed = request["headers"]["X-Parley-Timestamp"].encode() + b"." + request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Parley-Signature"] == expected
    assert request["headers"]["X-Parley-Event"] == "release.published"
    payload = json.loads(request["body"])
    assert payload["release"] == {**payload["release"], "id": release.pk, "name": "core", "version": 1, "rows": 1,
                                  "locales": ["de-DE"]}
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    # Sent as a task run, like every task (the outbox: see tests/services/test_dead_broker.py).
    from parley.runs.models import TaskRun

    sent = TaskRun.objects.get(kind="datasets.webhook_deliver")
    assert (sent.args, sent.status, sent.result["status"]) == ({"delivery_id": delivery.pk}, "succeeded", "delivered")
    # A second build attempt of the same release creates no second delivery.
    with django_capture_on_commit_callbacks(execute=True):
        release_build(release=release, actor="test")
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_a_wrong_secret_body_or_timestamp_does_not_verify():
    body = b'{"event": "release.published"}'
    good = webhook_signature(secret="a", body=body, timestamp="1700000000")
    assert good != webhook_signature(secret="b", body=body, timestamp="1700000000")
    assert good != webhook_signature(secret="a", body=body + b" ", timestamp="1700000000")
    assert good != webhook_signature(secret="a", body=body, timestamp="1700000001")


def test_a_redirect_is_a_failed_delivery_not_followed(corpus, receiver_factory):
    receiver = receiver_factory(statuses=[302])
    webhook_create(name="moved", url=receiver.url, actor="test")
    publish()
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


def test_failures_are_retried_with_backoff_then_delivered(corpus, receiver_factory, settings):
    settings.PARLEY_WEBHOOK_BACKOFF_SECONDS = 30
    receiver = receiver_factory(statuses=[500, 503])
    webhook_create(name="trainer", url=receiver.url, actor="test")
    publish()  # the on-commit attempt is not run here: the clock below drives every attempt
    delivery = WebhookDelivery.objects.get()
    start = timezone.now()
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=start)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    assert webhook_deliveries_due(now=start + timedelta(seconds=29)) == []
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=29)).attempts == 1
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=30))
    assert (delivery.attempts, delivery.last_status_code, delivery.status) == (2, 503, "pending")
    assert delivery.next_attempt_at == start + timedelta(seconds=30 + 60)  # doubled
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=90))
    assert (delivery.attempts, delivery.status) == (3, "delivered")
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1  # the same signed body every time


def test_a_delivery_gives_up_after_the_last_attempt(corpus, settings, caplog):
    settings.PARLEY_WEBHOOK_MAX_ATTEMPTS = 2
    settings.PARLEY_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    webhook_create(name="gone", url="http://127.0.0.1:9/nothing-listens", actor="test")
    publish()
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=now)
    assert delivery.status == "pending" and delivery.last_error == UNREACHABLE
    assert "Connection refused" in caplog.text  # the detail is in the server log, for platform admins
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(hours=1))
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)


def test_webhook_urls_and_events_are_checked(corpus):
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        webhook_create(name="x", url="ftp://example.org/hook", actor="test")
    with pytest.raises(ValidationError):
        webhook_create(name="x", url="https://example.org/hook", events=["release.deleted"], actor="test")


def test_webhook_edits_are_checked_and_logged(corpus):
    from django.core.exceptions import ValidationError

    from parley.datasets.webhooks import webhook_update
    from parley.events.models import Event

    hook, _secret = webhook_create(name="x", url="https://example.org/hook", actor="test")
    with pytest.raises(ValidationError):
        webhook_update(webhook=hook, url="ftp://example.org/", name="x", active=True, actor="test")
    webhook_update(webhook=hook, url="https://example.org/v2", name="x", active=False, actor="test")
    assert Event.objects.filter(verb="webhook.changed").count() == 1


def test_the_beat_task_attempts_what_is_due(corpus, receiver_factory, settings):
    from parley.datasets.tasks import webhook_retry_due_task

    receiver = receiver_factory(statuses=[500])
    webhook_create(name="trainer", url=receiver.url, actor="test")
    publish()
    assert webhook_retry_due_task() == 1  # the first attempt (500)
    assert webhook_retry_due_task() == 0  # backing off
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_retry_due_task() == 1
    assert WebhookDelivery.objects.get().status == "delivered"


# Issue 15, finding 6: webhooks reach public addresses only, at save and at send.

INTERNAL_URLS = ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
                 "http://[::1]:8080/", "http://127.0.0.1:6379/", "http://localhost/", "http://app.localhost/",
                 "http://10.0.0.5/hook", "http://172.16.3.4/", "http://192.168.1.1/", "http://100.64.0.1/",
                 "http://0.0.0.0:8000/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
                 "http://[2002:7f00:1::]/", "http://[64:ff9b::a00:1]/", "http://[fd00::1]/", "http://[fe80::1]/",
                 "http://2130706433/", "http://0x7f.1/", "http://intranet/", "http://224.0.0.1/",
                 "http://user:pw@example.org/hook",
                 # Review of issue 15: IPv4 in older IPv6 wrappers, site-local, local-use NAT64.
                 "http://[::127.0.0.1]/", "http://[::ffff:0:7f00:1]/", "http://[fec0::1]/", "http://[::a9fe:a9fe]/",
                 "http://[::ffff:0:a9fe:a9fe]:80/latest/meta-data/", "http://[fec0::a9fe:a9fe]/",
                 "http://[64:ff9b:1::a9fe:a9fe]/", "http://[::10.0.0.5]/"]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_destination_is_refused_at_save(corpus, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        webhook_create(name="probe", url=url, actor="test")
    assert "url" in refused.value.message_dict


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("::ffff:8.8.8.8", True), ("2002:0808:0808::", True),
    ("127.0.0.1", False), ("169.254.169.254", False), ("100.100.100.100", False), ("0.0.0.0", False),
    ("10.1.2.3", False), ("::1", False), ("::", False), ("::ffff:10.0.0.1", False), ("64:ff9b::7f00:1", False),
    ("fe80::1%eth0", False), ("ff02::1", False), ("198.18.0.1", False), ("192.0.2.10", False),
    # Review of issue 15: is_global said True for these on Python 3.11.7.
    ("::127.0.0.1", False), ("::7f00:1", False), ("::ffff:0:7f00:1", False), ("fec0::1", False),
    ("::a9fe:a9fe", False), ("::ffff:0:a9fe:a9fe", False), ("fec0::a9fe:a9fe", False), ("feff::1", False),
    ("3fff::1", False), ("4000::1", False), ("5f00::1", False), ("64:ff9b:1::808:808", False),
    ("192.88.99.1", False), ("::8.8.8.8", True), ("::ffff:0:808:808", True), ("64:ff9b::808:808", True)])
def test_address_is_public(address, public):
    from parley.datasets.destinations import address_is_public

    assert address_is_public(address) is public


from hypothesis import given, settings as hypothesis_settings, strategies as st  # noqa: E402

# Every IPv6 form that carries an IPv4 address: mapped, translated, compatible, 6to4, NAT64.
IPV4_WRAPPERS = [lambda v4: f"::ffff:{v4}", lambda v4: f"::ffff:0:{v4}", lambda v4: f"::{v4}",
                 lambda v4: "2002:{:x}:{:x}::".format(*divmod(int(v4), 1 << 16)), lambda v4: f"64:ff9b::{v4}"]


@hypothesis_settings(max_examples=300, deadline=None)
@given(v4=st.one_of(st.ip_addresses(v=4), st.sampled_from(
    [ipaddress.IPv4Address(a) for a in ("127.0.0.1", "169.254.169.254", "10.0.0.1", "100.64.0.1", "0.0.0.0",
                                        "192.168.0.1", "172.16.0.1", "224.0.0.1", "8.8.8.8", "1.1.1.1")])),
       wrap=st.sampled_from(IPV4_WRAPPERS))
def test_an_ipv6_address_carrying_an_ipv4_one_is_judged_by_it(v4, wrap):
    from parley.datasets.destinations import address_is_public

    assert address_is_public(wrap(v4)) is address_is_public(str(v4))


@hypothesis_settings(max_examples=300, deadline=None)
@given(ip=st.ip_addresses(v=6))
def test_an_ipv6_address_outside_global_unicast_is_never_public(ip):
    from parley.datasets.destinations import address_is_public

    carries_ipv4 = any(ip in ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96",
                                                                  "64:ff9b::/96", "2002::/16"))
    if not carries_ipv4 and ip not in ipaddress.ip_network("2000::/3"):
        assert address_is_public(str(ip)) is False


def _resolver(monkeypatch, answers):
    """DNS is the outside world: its answers are the one thing stood in for."""
    from parley.datasets import destinations

    calls = []

    def resolve(host, port):
        calls.append(host)
        if host in answers:
            return answers[host]
        raise OSError(f"{host}: no such name")

    monkeypatch.setattr(destinations, "resolve", resolve)
    return calls


def test_a_name_resolving_to_any_internal_address_is_refused_at_save(corpus, monkeypatch):
    from django.core.exceptions import ValidationError

    _resolver(monkeypatch, {"hooks.example.com": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(ValidationError):
        webhook_create(name="mixed", url="https://hooks.example.com/x", actor="test")


def test_a_name_that_rebinds_to_an_internal_address_is_not_sent_to(corpus, receiver_factory, monkeypatch, settings,
                                                                   caplog):
    """Saved while it resolved to a public address, then the DNS answer changed to loopback: the send
    resolves again, refuses, and records the same outcome as any unreachable host."""
    receiver = receiver_factory()
    answers = {"hooks.example.com": ["93.184.216.34"]}
    _resolver(monkeypatch, answers)
    webhook_create(name="rebind", url=f"http://hooks.example.com:{receiver.server.server_port}/hook", actor="test")
    answers["hooks.example.com"] = ["127.0.0.1"]
    settings.PARLEY_WEBHOOK_ALLOWED_HOSTS = []
    publish()
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("pending", None, UNREACHABLE)
    assert receiver.requests == [] and "127.0.0.1, not a public address" in caplog.text


def test_the_send_connects_to_the_address_it_checked(corpus, receiver_factory, monkeypatch):
    """One lookup per attempt, and the connection goes to its answer (the name resolves nowhere
    else here), with the name kept in the Host header."""
    receiver = receiver_factory()
    calls = _resolver(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    webhook_create(name="pinned", url=f"http://hooks.example.com:{receiver.server.server_port}/hook", actor="test")
    publish()
    calls.clear()
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert (delivery.status, calls) == ("delivered", ["hooks.example.com"])
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{receiver.server.server_port}"


def test_a_refused_and_an_unreachable_destination_read_the_same(corpus, receiver_factory, settings):
    """No port-scan oracle: an internal address that listens (refused by policy) and a closed port
    leave the same delivery record."""
    from parley.datasets.models import Webhook

    receiver = receiver_factory()
    listening = webhook_create(name="listening", url=receiver.url, actor="test")[0]
    closed = webhook_create(name="closed", url="http://127.0.0.1:9/hook", actor="test")[0]
    settings.PARLEY_WEBHOOK_ALLOWED_HOSTS = []  # as in production: both are internal
    publish()
    outcomes = {}
    for hook in Webhook.objects.filter(pk__in=[listening.pk, closed.pk]):
        delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(webhook=hook).pk)
        outcomes[hook.name] = (delivery.status, delivery.last_status_code, delivery.last_error)
    assert outcomes["listening"] == outcomes["closed"] == ("pending", None, UNREACHABLE)
    assert receiver.requests == []


def test_the_admin_form_refuses_an_internal_destination(corpus, admin_client):
    from parley.datasets.models import Webhook

    response = admin_client.post("/admin/datasets/webhook/add/", {"name": "probe",
                                                                  "url": "http://169.254.169.254/latest/"},
                                 follow=True)
    assert not Webhook.objects.exists()
    assert "not a public address" in response.content.decode()


def _certificate(tmp_path, name):
    """A self-signed certificate for `name` (openssl), trusted through SSL_CERT_FILE."""
    import subprocess

    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.parametrize("certified_name, delivered", [("hooks.example.com", True), ("other.example.com", False)])
def test_https_to_the_checked_address_still_verifies_the_name(corpus, receiver_factory, monkeypatch, tmp_path,
                                                              certified_name, delivered):
    """The connection goes to the pinned address, yet TLS checks the certificate against the URL's
    name (SNI and hostname check), so pinning does not weaken HTTPS."""
    cert, key = _certificate(tmp_path, certified_name)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    receiver = receiver_factory(tls=(cert, key))
    _resolver(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    webhook_create(name="tls", url=f"https://hooks.example.com:{receiver.server.server_port}/hook", actor="test")
    publish()
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    if delivered:
        assert (delivery.status, delivery.last_status_code, len(receiver.requests)) == ("delivered", 200, 1)
    else:
        assert (delivery.status, delivery.last_error, receiver.requests) == ("pending", UNREACHABLE, [])
