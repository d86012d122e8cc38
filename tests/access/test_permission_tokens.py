"""Who may mint what: a token never grants more than its creator holds (issue 15, finding 1).

Creators: a platform-wide admin in a session, the same admin through a token without a locale
limit (narrow scopes, an expiry) and through one limited to de-DE; a user holding only the
permission to mint, in de-DE; a locale lead of de-DE in a session and through a token. Each asks
for one token that is like its own ("same") or wider in exactly one way.
"""
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

import factories as f
from parley.access.models import ApiToken, Role
from parley.access.services import membership_grant
from role_clients import admin_client, api_client

pytestmark = pytest.mark.django_db

IN, OUT = "de-DE", "ja-JP"
CREATORS = ["admin", "admin_wide_token", "admin_de_token", "de_minter", "wide_minter", "lead", "lead_token"]
OWN_EXPIRY = timedelta(days=30)


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    admin = f.member("platform_admin", None, username="admin")
    lead = f.member("locale_lead", de, username="lead")
    f.member("pipeline", None, username="pipe")
    # A role that may mint tokens and read the registry, held in de-DE only: what such a user
    # may mint is bounded by de-DE and by those grants.
    group = Group.objects.create(name="role:minter")
    group.permissions.add(*Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken", "view_locale"]))
    minter_role = Role.objects.create(slug="minter", name="Token minter", group=group)
    minter = f.user("de_minter")
    membership_grant(user=minter, role=minter_role, locale=de, actor="test")
    # The same role held in every locale: platform-wide for minting, yet it holds no more than
    # the registry reading, so it mints no more than that, for itself or for anyone.
    wide_minter = f.user("wide_minter")
    membership_grant(user=wide_minter, role=minter_role, locale=None, actor="test")
    expires = timezone.now() + OWN_EXPIRY
    own_scopes = ["tokens:admin", "locales:read"]
    tokens = {
        "admin_wide_token": f.token(admin, scopes=own_scopes, expires_at=expires)[1],
        "admin_de_token": f.token(admin, scopes=own_scopes, locales=[de], expires_at=expires)[1],
        "lead_token": f.token(lead, scopes=own_scopes, locales=[de], expires_at=expires)[1],
    }
    actors = {"admin": admin, "lead": lead, "de_minter": minter, "wide_minter": wide_minter}
    owner = {"admin": "admin", "admin_wide_token": "admin", "admin_de_token": "admin", "de_minter": "de_minter",
             "wide_minter": "wide_minter", "lead": "lead", "lead_token": "lead"}
    return {"de": de, "ja": ja, "actors": actors, "tokens": tokens, "owner": owner, "expires": expires}


def request_body(world, creator, variant):
    """The token asked for: like the creator's own ("same"), or wider in one way."""
    body = {"name": f"{creator}-{variant}", "user": world["owner"][creator], "scopes": ["locales:read"],
            "locales": [IN], "expires_at": (world["expires"] - timedelta(days=1)).isoformat()}
    if variant == "wider_scopes":
        body["scopes"] = ["locales:read", "utterances:write"]
    elif variant == "other_locale":
        body["locales"] = [OUT]
    elif variant == "no_locale_limit":
        body["locales"] = []
    elif variant == "later_expiry":
        body["expires_at"] = (world["expires"] + timedelta(days=1)).isoformat()
    elif variant == "no_expiry":
        body["expires_at"] = None
    elif variant == "other_owner":
        body["user"] = "pipe"
    return body


VARIANTS = ["same", "wider_scopes", "other_locale", "no_locale_limit", "later_expiry", "no_expiry", "other_owner"]
# Expected status per creator, in VARIANTS order. A platform-wide admin in a session holds
# everything; through a token it is bound by the token's scopes and expiry, not by a locale.
# A creator limited to de-DE mints only for itself, in de-DE. The minter holds utterances:write
# nowhere; the de-DE admin token does not carry it. Leads may not mint at all.
MATRIX = {
    #                   same  scopes other  nolimit later  noexp  owner
    "admin":            [201, 201,   201,   201,    201,   201,   201],
    "admin_wide_token": [201, 403,   201,   201,    403,   403,   201],
    "admin_de_token":   [201, 403,   403,   403,    403,   403,   403],
    "de_minter":        [201, 403,   403,   403,    201,   201,   403],
    "wide_minter":      [201, 403,   201,   201,    201,   201,   201],
    "lead":             [403, 403,   403,   403,    403,   403,   403],
    "lead_token":       [403, 403,   403,   403,    403,   403,   403],
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("creator", CREATORS)
def test_api_token_creates_token_matrix(world, creator, variant):
    expected = MATRIX[creator][VARIANTS.index(variant)]
    before = ApiToken.objects.count()
    response = api_client(world, creator).post("/api/v1/tokens/", request_body(world, creator, variant),
                                               format="json")
    assert response.status_code == expected, response.content
    assert ApiToken.objects.count() == before + (expected == 201)
    if expected == 403:
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("variant, field", [
    ("wider_scopes", "utterances:write"), ("other_locale", OUT), ("no_locale_limit", "locale limit"),
    ("later_expiry", "expiry"), ("other_owner", "platform-wide admin"),
])
def test_refusal_names_what_exceeds_the_creators_own(world, variant, field):
    response = api_client(world, "admin_de_token").post(
        "/api/v1/tokens/", request_body(world, "admin_de_token", variant), format="json")
    assert response.status_code == 403
    assert field in response.json()["error"]["message"]


def test_token_minted_by_a_de_token_reads_de_only(world):
    """The finding as reported: a de-DE token minted one for another user with no locale limit,
    which read ja-JP. That is refused; minted within the rule, the token reads de-DE only."""
    client = api_client(world, "admin_de_token")
    as_reported = client.post("/api/v1/tokens/", {"name": "wide", "user": "pipe", "scopes": ["locales:read"]},
                              format="json")
    assert as_reported.status_code == 403 and not ApiToken.objects.filter(name="wide").exists()
    response = client.post(
        "/api/v1/tokens/", request_body(world, "admin_de_token", "same"), format="json")
    assert response.status_code == 201, response.content
    minted = {"tokens": {"minted": response.json()["token"]}}
    assert api_client(minted, "minted").get(f"/api/v1/locales/{IN}/").status_code == 200
    assert api_client(minted, "minted").get(f"/api/v1/locales/{OUT}/").status_code == 404


def test_admin_form_applies_the_same_rule(world):
    """The admin is for platform-wide admins only; its form asks the same rule as the API."""
    from parley.access.services import token_mint_problems

    client = admin_client(world, "admin")
    response = client.post("/admin/access/apitoken/add/", {
        "name": "nightly", "user": world["actors"]["lead"].pk, "scopes": ["locales:read"], "locales": [world["ja"].pk]})
    assert response.status_code == 302 and ApiToken.objects.filter(name="nightly").exists()
    assert admin_client(world, "de_minter").get("/admin/access/apitoken/add/").status_code in (302, 403)
    problems = token_mint_problems(creator=world["actors"]["de_minter"], user=world["actors"]["lead"],
                                   scopes=["utterances:write"], locales=[world["ja"]], expires_at=None)
    assert set(problems) == {"user", "locales", "scopes"}


@pytest.mark.parametrize("creator, platform_wide", [
    ("admin", True), ("admin_wide_token", True), ("admin_de_token", False), ("de_minter", False), ("lead", False),
])
def test_me_says_platform_admin_only_for_platform_wide_callers(world, creator, platform_wide):
    assert api_client(world, creator).get("/api/v1/me/").json()["is_platform_admin"] is platform_wide


@pytest.mark.parametrize("locales", [[], [IN]], ids=["no-locale-limit", "de-DE"])
def test_a_platform_wide_minter_mints_for_a_superuser_only_what_it_holds_itself(world, locales):
    """Minting everywhere is not holding everything: a token acting as a superuser (or anyone)
    carries only scopes whose permissions the creator holds wherever the token would use them."""
    root = f.user("root", superuser=True)
    client = api_client(world, "wide_minter")
    body = {"name": "escalate", "user": "root", "scopes": ["locales:read", "utterances:write"], "locales": locales}
    refused = client.post("/api/v1/tokens/", body, format="json")
    assert refused.status_code == 403, refused.content
    assert "['utterances:write'] beyond the creator's own" in refused.json()["error"]["message"]
    assert not ApiToken.objects.filter(user=root).exists()
    # The lead holds utterances:write in de-DE, the minter nowhere: the same for a lead's token.
    body.update(user="lead", locales=[IN])
    assert client.post("/api/v1/tokens/", body, format="json").status_code == 403
    body.update(user="root", scopes=["locales:read"], locales=locales)
    assert client.post("/api/v1/tokens/", body, format="json").status_code == 201
