"""``dunning user create`` and ``dunning user list``: people for the web app, with a password from stdin or an
invitation link built from DUNNING_BASE_URL."""

from __future__ import annotations

from connector import accounts, model
from connector.runtime import Runtime
from connector.storage import repos
from tests.clirunner import Cli


def _runtime(cli: Cli) -> Runtime:
    return Runtime(cli.settings())


def test_create_with_a_password_invite_without_and_list(cli: Cli) -> None:
    cli = cli.with_env(DUNNING_BASE_URL="https://app.example")
    cli.ok("db", "upgrade")
    created = cli(
        "user",
        "create",
        "Anna@Example.nl",
        "--org",
        "Bakkerij BV",
        "--new-org",
        "--password-stdin",
        input="a long password\n",
    )
    assert created.exit_code == 0, created.describe()
    assert "anna@example.nl can log in now" in created.stderr, created.describe()
    invited = cli.ok("user", "create", "bob@example.nl", "--org", "Bakkerij BV", "--role", "viewer")
    link = invited.stdout.strip()
    assert link.startswith("https://app.example/invite/"), f"the invitation link is not from DUNNING_BASE_URL: {link}"
    listed = cli.json("user", "list", "--org", "Bakkerij BV", "--json")
    assert listed == [
        {"email": "anna@example.nl", "role": "owner", "status": "active", "administrations": "all"},
        {"email": "bob@example.nl", "role": "viewer", "status": "invited", "administrations": "all"},
    ], f"user list said {listed}"
    rt = _runtime(cli)
    try:
        assert accounts.authenticate(rt, "anna@example.nl", "a long password", "127.0.0.1") is not None
        bob = accounts.read_link(rt, link.rsplit("/", 1)[1], "invite")
        assert bob.email == "bob@example.nl", "the link names someone else"
    finally:
        rt.close()


def test_a_clients_staff_are_kept_to_their_administrations(cli: Cli) -> None:
    """``--administration`` (by name or id, repeatable) keeps the person to those administrations; an owner, an
    administration the organisation has not and ``--new-org`` are refused with a reason."""
    cli.ok("db", "upgrade")
    cli.ok("user", "create", "owner@practice.nl", "--org", "Praktijk", "--new-org", "--kind", "practice")
    rt = _runtime(cli)
    try:
        org_id = accounts.memberships(rt, accounts.find_person(rt, "owner@practice.nl").id)[0].org_id  # type: ignore[union-attr]
        with rt.sessions.begin() as s:
            connection = repos.create_connection(s, org_id, "moneybird")
            ids = [
                repos.upsert_administration(
                    s, org_id, connection.id, "moneybird", model.Tenant(provider_tenant_id=f"t{n}", name=name)
                ).id
                for n, name in enumerate(("Bakker BV", "Slager BV", "Visser BV"))
            ]
    finally:
        rt.close()
    args = ("user", "create", "staff@bakker.nl", "--org", "Praktijk", "--role", "viewer")
    cli.ok(*args, "--administration", "bakker bv", "--administration", str(ids[2]))
    listed = {row["email"]: row for row in cli.json("user", "list", "--org", "Praktijk", "--json")}
    kept = listed["staff@bakker.nl"]["administrations"]
    assert kept == f"{ids[0]},{ids[2]}", f"kept to {kept}, not Bakker BV and Visser BV"
    assert listed["owner@practice.nl"]["administrations"] == "all", "the owner was restricted"
    rt = _runtime(cli)
    try:
        with rt.sessions() as s:
            trail = [e.message for e in repos.audit_trail(s, org_id, limit=10)]
    finally:
        rt.close()
    assert f"staff@bakker.nl invited as viewer to administration {ids[0]} only" in trail, f"audit trail: {trail}"
    cases = [
        (("--role", "owner", "--administration", "Bakker BV"), "an owner has the whole organisation"),
        (("--administration", "Nergens BV"), "no single administration 'Nergens BV'"),
        (("--new-org", "--administration", "Bakker BV"), "--administration needs an organisation that has it"),
    ]
    for extra, says in cases:
        outcome = cli("user", "create", "x@bakker.nl", "--org", "Praktijk", *extra)
        assert outcome.exit_code != 0 and says in outcome.stderr, f"{extra}: {outcome.describe()}"
        assert "Traceback" not in outcome.output, f"{extra} showed a traceback"


def test_mistakes_are_explained(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    cases = [
        (("user", "create", "x@example.nl", "--org", "Nobody"), "no organisation 'Nobody' here"),
        (("user", "create", "not-an-address", "--org", "B", "--new-org"), "is not an e-mail address"),
        (("user", "create", "y@example.nl", "--org", "C", "--new-org", "--password-stdin"), "no password on stdin"),
    ]
    for args, says in cases:
        outcome = cli(*args, input="")
        if not says:
            continue
        assert outcome.exit_code != 0, f"{args} succeeded"
        assert says in outcome.stderr, f"{args}: {outcome.describe()}"
        assert "Traceback" not in outcome.output, f"{args} showed a traceback"
    short = cli("user", "create", "z@example.nl", "--org", "D", "--new-org", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.stderr, short.describe()


def test_serve_refuses_the_network_while_nobody_can_log_in(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    refused = cli("serve", "--host", "0.0.0.0")  # noqa: S104 - the address it must refuse
    assert refused.exit_code != 0, "serve listened on every address without any account"
    assert "nobody can log in yet" in refused.stderr and "dunning user create" in refused.stderr, refused.describe()
    assert "Traceback" not in refused.output, refused.describe()
