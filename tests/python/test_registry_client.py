"""Client conformance tests for herald-registry.

This suite is a gRPC client that knows only the .proto files: it generates
its stubs from proto/ with grpc_tools.protoc into a temporary folder, starts
the real `herald-registry` binary (HERALD_REGISTRY_BIN) on a free port with a
temporary SQLite database and a HERALD_CONFIG holding preconfigured accounts,
and checks the AccountRegistry contract (CONTRACT.md, gRPC section) from the
outside: status codes, roles, versions, paging, and that secrets never come
back from a read.

Run it through scripts/python-client-test.sh, which builds the binary and
installs tests/python/requirements.txt into .venv.
"""

import base64
import copy
import importlib.resources
import os
import secrets as random
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

import grpc
import yaml
from google.protobuf import json_format, struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

REPO = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO / "proto"
# One file per code block of Kibana's preconfigured-connectors page.
KIBANA_FIXTURES = REPO / "crates/connectors/tests/fixtures/kibana"
# The contract's connector types, in its order.
CONTRACT_TYPES = [
    "email", "slack", "slack_api", "teams", "pagerduty", "opsgenie", "jira",
    "servicenow", "servicenow-sir", "servicenow-itom", "xmatters", "swimlane",
    "resilient", "d3security", "tines", "torq", "thehive", "webhook",
    "cases-webhook", "index", "server-log", "gen-ai", "bedrock",
]

ADMIN_TOKEN = "admin-" + random.token_hex(16)
PRODUCER_TOKEN = "producer-" + random.token_hex(16)
SERVICE_TOKEN = "service-" + random.token_hex(16)
WRONG_TOKEN = "wrong-" + random.token_hex(16)

RPC_TIMEOUT = 10  # seconds, for every call
START_TIMEOUT = 60  # seconds until health says SERVING

# Preconfigured accounts, written to HERALD_CONFIG: one in the contract's
# shape, one in Kibana's (actionTypeId, exposeConfig).
PRECONFIGURED_SLACK_SECRET = f"https://hooks.slack.com/services/T0PRE/B0PRE/pre-{uuid.uuid4().hex}"
PRECONFIGURED_WEBHOOK_SECRET = f"pre-password-{uuid.uuid4().hex}"
HERALD_CONFIG = f"""\
preconfigured:
  ops-slack:
    name: Ops
    connector_type: slack
    secrets: {{webhookUrl: "{PRECONFIGURED_SLACK_SECRET}"}}
  ops-webhook:
    name: Ops webhook
    actionTypeId: .webhook
    exposeConfig: true
    config: {{url: "https://hooks.example.com/ops", method: post, hasAuth: true}}
    secrets: {{user: ops, password: "{PRECONFIGURED_WEBHOOK_SECRET}"}}
# Kibana's `.index` example has no url and so targets Elasticsearch on
# localhost:9200, an internal address the policy must name.
policy:
  allowed_hosts: ["*", "127.0.0.1", "::1", "localhost"]
"""
PRECONFIGURED_IDS = {"ops-slack", "ops-webhook"}

# Kibana's preconfigured-connectors page has an example of every type but
# TheHive (see the fixture's header); this one is made from its schema.
EXTRA_VALID_DOCUMENTS = {
    "my-thehive": {
        "actionTypeId": ".thehive",
        "name": "preconfigured-thehive-connector-type",
        "config": {"url": "https://thehive.example.com", "organisation": "ops"},
        "secrets": {"apiKey": "thehive-api-key-value"},
    },
}

# Set by setUpModule.
pb = None  # herald.v1.registry_pb2
pb_grpc = None  # herald.v1.registry_pb2_grpc
SERVER = None  # RegistryServer


# ---------------------------------------------------------------- helpers


def metadata(token):
    """The call metadata of a caller holding `token` (None: no metadata)."""
    return None if token is None else (("authorization", f"Bearer {token}"),)


def to_struct(document):
    """A dict (or None) as a google.protobuf.Struct."""
    struct = struct_pb2.Struct()
    if document:
        struct.update(document)
    return struct


def to_dict(struct):
    """A google.protobuf.Struct as a dict."""
    return json_format.MessageToDict(struct)


def normalized(document):
    """`document` as it reads after a round trip through a Struct, where
    every number is a double."""
    return to_dict(to_struct(document))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_stubs(out_dir):
    """Compiles every .proto under proto/ into `out_dir` and imports the
    registry's modules."""
    from grpc_tools import protoc

    well_known = importlib.resources.files("grpc_tools") / "_proto"
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {protos}")
    sys.path.insert(0, str(out_dir))
    global pb, pb_grpc
    from herald.v1 import registry_pb2, registry_pb2_grpc

    pb, pb_grpc = registry_pb2, registry_pb2_grpc


def valid_documents():
    """Valid accounts by id, in Kibana's `xpack.actions.preconfigured` shape:
    the catalog's fixture of Kibana's examples plus EXTRA_VALID_DOCUMENTS."""
    documents = {}
    for path in sorted(KIBANA_FIXTURES.glob("*.yaml")):
        kibana = yaml.safe_load(path.read_text())
        preconfigured = kibana.get("xpack.actions.preconfigured")
        if preconfigured is None:
            preconfigured = kibana["xpack"]["actions"]["preconfigured"]
        for id, document in preconfigured.items():
            # Two pages' examples may share an id (`my-slack1`): keep both.
            documents[id if id not in documents else f"{id}-{path.stem}"] = document
    documents.update(copy.deepcopy(EXTRA_VALID_DOCUMENTS))
    return documents


def type_of(document):
    """The canonical connector type of a Kibana-shaped document."""
    return document["actionTypeId"].removeprefix(".")


class RegistryServer:
    """The herald-registry binary, run as a subprocess in a temp folder."""

    def __init__(self, binary, work_dir):
        self.binary = binary
        self.work_dir = Path(work_dir)
        self.addr = f"127.0.0.1:{free_port()}"
        self.log_path = self.work_dir / "registry.log"
        self.process = None
        self.channel = None

    def start(self):
        config = self.work_dir / "herald.yaml"
        config.write_text(HERALD_CONFIG)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HERALD_REGISTRY_ADDR": self.addr,
            "HERALD_DATABASE_URL": f"sqlite://{self.work_dir / 'registry.db'}",
            "HERALD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "HERALD_ADMIN_TOKEN": ADMIN_TOKEN,
            "HERALD_PRODUCER_TOKEN": PRODUCER_TOKEN,
            "HERALD_SERVICE_TOKEN": SERVICE_TOKEN,
            # NATS is down: the registry must serve without it.
            "HERALD_NATS_URL": "nats://127.0.0.1:1",
            "HERALD_CONFIG": str(config),
            "HERALD_LOG": "info",
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [self.binary], env=env, cwd=self.work_dir, stdout=log, stderr=subprocess.STDOUT
            )
        self.channel = grpc.insecure_channel(self.addr)
        self.wait_until_serving()

    def wait_until_serving(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"herald-registry exited with {self.process.returncode} at start:\n{self.log()}"
                )
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = reply.status
            except grpc.RpcError as error:
                last = error.code()
            time.sleep(0.2)
        raise RuntimeError(f"herald-registry not SERVING after {START_TIMEOUT}s (last: {last}):\n{self.log()}")

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return "(no log)"

    def stop(self):
        if self.channel is not None:
            self.channel.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def setUpModule():
    binary = os.environ.get("HERALD_REGISTRY_BIN")
    if not binary or not os.access(binary, os.X_OK):
        raise RuntimeError(
            f"HERALD_REGISTRY_BIN must name the built herald-registry binary (got {binary!r}); "
            "run scripts/python-client-test.sh"
        )
    # Cleanups run even when this function fails half-way, last one first:
    # the server is stopped before its folder goes.
    work = tempfile.TemporaryDirectory(prefix="herald-client-test-")
    unittest.addModuleCleanup(work.cleanup)
    stubs = Path(work.name) / "stubs"
    stubs.mkdir()
    generate_stubs(stubs)
    global SERVER
    SERVER = RegistryServer(binary, work.name)
    unittest.addModuleCleanup(SERVER.stop)
    SERVER.start()


# ------------------------------------------------------------------ tests


class RegistryTestCase(unittest.TestCase):
    """Calls and assertions shared by the tests."""

    maxDiff = None

    def setUp(self):
        self.stub = pb_grpc.AccountRegistryStub(SERVER.channel)

    def call(self, method, request, token=ADMIN_TOKEN):
        return getattr(self.stub, method)(request, metadata=metadata(token), timeout=RPC_TIMEOUT)

    def assert_status(self, code, method, request, token=ADMIN_TOKEN):
        """Asserts the call fails with `code`; returns the error."""
        with self.assertRaises(grpc.RpcError, msg=f"{method} should fail with {code.name}") as caught:
            self.call(method, request, token)
        error = caught.exception
        self.assertEqual(error.code(), code, f"{method}: {error.details()}")
        return error

    def put(self, account_id, connector_type, name, config=None, secrets=None, version=0, token=ADMIN_TOKEN):
        account = pb.Account(
            id=account_id,
            connector_type=connector_type,
            name=name,
            config=to_struct(config),
            secrets=to_struct(secrets),
            version=version,
        )
        return self.call("PutAccount", pb.PutAccountRequest(account=account), token)

    def put_document(self, account_id, document):
        """Creates an account from a Kibana-shaped document."""
        return self.put(
            account_id,
            document["actionTypeId"],
            document.get("name") or account_id,
            document.get("config"),
            document.get("secrets"),
        )

    def get(self, account_id, token=ADMIN_TOKEN):
        return self.call("GetAccount", pb.GetAccountRequest(id=account_id), token)

    def resolve(self, account_id, token=SERVICE_TOKEN):
        return self.call("ResolveAccount", pb.ResolveAccountRequest(id=account_id), token)

    def delete(self, account_id, version=0, token=ADMIN_TOKEN):
        return self.call("DeleteAccount", pb.DeleteAccountRequest(id=account_id, version=version), token)

    def connector_types(self, token=ADMIN_TOKEN):
        return self.call("ListConnectorTypes", pb.ListConnectorTypesRequest(), token).connector_types

    def list_pages(self, connector_type="", page_size=0, token=ADMIN_TOKEN):
        """Every page of ListAccounts, following next_page_token until empty."""
        pages, page_token = [], ""
        for _ in range(10_000):
            request = pb.ListAccountsRequest(
                connector_type=connector_type, page_size=page_size, page_token=page_token
            )
            page = self.call("ListAccounts", request, token)
            pages.append(page)
            page_token = page.next_page_token
            if not page_token:
                return pages
        self.fail("ListAccounts never returned an empty next_page_token")

    def list_ids(self, connector_type="", page_size=0, token=ADMIN_TOKEN):
        return [a.id for page in self.list_pages(connector_type, page_size, token) for a in page.accounts]


class ConnectorTypeTests(RegistryTestCase):
    def test_list_connector_types_publishes_every_type_with_schemas(self):
        types = self.connector_types()
        self.assertEqual([t.id for t in types], CONTRACT_TYPES)
        for t in types:
            with self.subTest(t.id):
                self.assertTrue(t.name)
                self.assertTrue(t.worker.startswith("herald-"), t.worker)
                for which in ("config_schema", "secrets_schema", "params_schema"):
                    self.assertTrue(t.HasField(which), which)
                    self.assertEqual(to_dict(getattr(t, which)).get("type"), "object", which)
                secret_properties = to_dict(t.secrets_schema).get("properties", {})
                self.assertEqual(sorted(t.secret_fields), sorted(secret_properties))

    def test_producer_and_service_may_list_connector_types(self):
        for token in (PRODUCER_TOKEN, SERVICE_TOKEN):
            self.assertEqual([t.id for t in self.connector_types(token)], CONTRACT_TYPES)

    def test_every_type_has_a_valid_document_that_creates_an_account(self):
        types = {t.id for t in self.connector_types()}
        documents = valid_documents()
        self.assertEqual({type_of(d) for d in documents.values()}, types, "a valid document per type")
        for doc_id, document in documents.items():
            account_id = f"valid-{doc_id}"
            with self.subTest(account_id):
                created = self.put_document(account_id, document)
                sent_secrets = {k: v for k, v in (document.get("secrets") or {}).items() if v is not None}
                self.assertEqual(created.id, account_id)
                self.assertEqual(created.connector_type, type_of(document), "stored without the dot")
                self.assertEqual(created.version, 1)
                self.assertFalse(created.preconfigured)
                self.assertFalse(created.HasField("secrets") and to_dict(created.secrets), "no secrets back")
                read = self.get(account_id)
                self.assertEqual(read.connector_type, type_of(document))
                self.assertEqual(read.name, document.get("name") or account_id)
                self.assertEqual(to_dict(read.config), normalized(document.get("config")))
                self.assertEqual(sorted(read.secret_fields), sorted(sent_secrets))
                self.assertEqual(to_dict(self.resolve(account_id).secrets), normalized(sent_secrets))

    def test_every_type_rejects_an_invalid_document_naming_the_field(self):
        documents = valid_documents()
        for t in self.connector_types():
            base = next(d for d in documents.values() if type_of(d) == t.id)
            variants = list(invalid_variants(t, base))
            with self.subTest(t.id):
                self.assertTrue(variants, f"no invalid document could be derived for {t.id}")
            for n, (what, config, secrets, field) in enumerate(variants):
                account_id = f"invalid-{t.id}-{n}"
                with self.subTest(t.id, invalid=what):
                    error = self.assert_status(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        "PutAccount",
                        pb.PutAccountRequest(
                            account=pb.Account(
                                id=account_id,
                                connector_type=t.id,
                                name="Invalid",
                                config=to_struct(config),
                                secrets=to_struct(secrets),
                            )
                        ),
                    )
                    self.assertIn(field, error.details(), f"{what}: the message names {field}")
                    self.assert_status(grpc.StatusCode.NOT_FOUND, "GetAccount", pb.GetAccountRequest(id=account_id))

    def test_invalid_account_fields_are_named(self):
        error = self.assert_status(
            grpc.StatusCode.INVALID_ARGUMENT,
            "PutAccount",
            pb.PutAccountRequest(account=pb.Account(id="Not An Id", connector_type="no-such-type", name="")),
        )
        for field in ("id", "connector_type", "name"):
            self.assertIn(f"{field}:", error.details())


def invalid_variants(connector_type, document):
    """Invalid (what, config, secrets, field path) versions of a valid
    Kibana-shaped `document`, derived from the type's published schemas: a
    required field left out, an unknown field, a value of the wrong type."""
    sections = {
        "config": (document.get("config") or {}, to_dict(connector_type.config_schema)),
        "secrets": (document.get("secrets") or {}, to_dict(connector_type.secrets_schema)),
    }

    def variant(section, change):
        docs = {name: copy.deepcopy(values) for name, (values, _) in sections.items()}
        change(docs[section])
        return docs["config"], docs["secrets"]

    for section, (values, schema) in sections.items():
        required = [r for r in schema.get("required", []) if r in values]
        if required:
            field = required[0]
            config, secrets = variant(section, lambda d: d.pop(field))
            yield f"{section}.{field} left out", config, secrets, f"{section}.{field}"
        if schema.get("additionalProperties") is False:
            config, secrets = variant(section, lambda d: d.update(notAField="x"))
            yield f"unknown {section}.notAField", config, secrets, f"{section}.notAField"
        for field, property_schema in sorted(schema.get("properties", {}).items()):
            wrong = wrong_type_value(property_schema)
            if wrong is not None:
                config, secrets = variant(section, lambda d: d.update({field: wrong}))
                yield f"{section}.{field} of the wrong type", config, secrets, f"{section}.{field}"
                break


def wrong_type_value(property_schema):
    """A value that the property's JSON Schema `type` does not allow."""
    types = property_schema.get("type")
    if types is None:
        return None
    types = [types] if isinstance(types, str) else types
    if "boolean" not in types:
        return True
    if "string" not in types:
        return "not-a-boolean"
    return None


class AccountLifecycleTests(RegistryTestCase):
    WEBHOOK_CONFIG = {"url": "https://hooks.example.com/alert", "method": "post", "hasAuth": True}

    def create_webhook(self, account_id, password=None):
        secrets = {"user": "alice", "password": password or f"pw-{uuid.uuid4().hex}"}
        return self.put(account_id, "webhook", "Alert hook", self.WEBHOOK_CONFIG, secrets), secrets

    def test_get_returns_what_was_put(self):
        created, _ = self.create_webhook("life-get")
        read = self.get("life-get")
        self.assertEqual(read.id, "life-get")
        self.assertEqual(read.connector_type, "webhook")
        self.assertEqual(read.name, "Alert hook")
        self.assertEqual(to_dict(read.config), normalized(self.WEBHOOK_CONFIG))
        self.assertEqual(sorted(read.secret_fields), ["password", "user"])
        self.assertEqual(read.version, created.version)
        self.assertTrue(read.HasField("created_at") and read.HasField("updated_at"))

    def test_producer_and_service_may_read(self):
        self.create_webhook("life-readers")
        for token in (PRODUCER_TOKEN, SERVICE_TOKEN):
            self.assertEqual(self.get("life-readers", token).id, "life-readers")
            self.assertIn("life-readers", self.list_ids(token=token))

    def test_replace_with_current_version_keeps_secrets_left_out(self):
        created, secrets = self.create_webhook("life-replace")
        replaced = self.put(
            "life-replace", "webhook", "Renamed", self.WEBHOOK_CONFIG, secrets=None, version=created.version
        )
        self.assertEqual(replaced.version, created.version + 1)
        self.assertEqual(replaced.name, "Renamed")
        self.assertEqual(self.get("life-replace").name, "Renamed")
        self.assertEqual(to_dict(self.resolve("life-replace").secrets), secrets, "secrets left out are kept")
        # One secret replaced, the other kept.
        again = self.put(
            "life-replace", "webhook", "Renamed", self.WEBHOOK_CONFIG, {"password": "new-password"}, replaced.version
        )
        self.assertEqual(again.version, replaced.version + 1)
        self.assertEqual(to_dict(self.resolve("life-replace").secrets), {"user": "alice", "password": "new-password"})

    def test_replace_with_stale_version_is_aborted(self):
        created, _ = self.create_webhook("life-stale")
        self.put("life-stale", "webhook", "First", self.WEBHOOK_CONFIG, version=created.version)
        account = pb.Account(
            id="life-stale",
            connector_type="webhook",
            name="Second",
            config=to_struct(self.WEBHOOK_CONFIG),
            version=created.version,
        )
        self.assert_status(grpc.StatusCode.ABORTED, "PutAccount", pb.PutAccountRequest(account=account))
        self.assertEqual(self.get("life-stale").name, "First", "the stale put changed nothing")

    def test_delete_with_stale_version_is_aborted(self):
        created, _ = self.create_webhook("life-stale-delete")
        self.put("life-stale-delete", "webhook", "Changed", self.WEBHOOK_CONFIG, version=created.version)
        self.assert_status(
            grpc.StatusCode.ABORTED,
            "DeleteAccount",
            pb.DeleteAccountRequest(id="life-stale-delete", version=created.version),
        )
        self.assertEqual(self.get("life-stale-delete").id, "life-stale-delete")

    def test_delete_then_not_found(self):
        created, _ = self.create_webhook("life-delete")
        self.delete("life-delete", version=created.version)
        not_found = grpc.StatusCode.NOT_FOUND
        self.assert_status(not_found, "GetAccount", pb.GetAccountRequest(id="life-delete"))
        self.assert_status(not_found, "ResolveAccount", pb.ResolveAccountRequest(id="life-delete"), SERVICE_TOKEN)
        self.assert_status(not_found, "DeleteAccount", pb.DeleteAccountRequest(id="life-delete"))
        self.assertNotIn("life-delete", self.list_ids())

    def test_unknown_id_is_not_found(self):
        self.assert_status(grpc.StatusCode.NOT_FOUND, "GetAccount", pb.GetAccountRequest(id="no-such-account"))

    def test_service_token_resolves_secrets(self):
        _, secrets = self.create_webhook("life-resolve")
        resolved = self.resolve("life-resolve")
        self.assertEqual(resolved.id, "life-resolve")
        self.assertEqual(to_dict(resolved.secrets), secrets)
        self.assertEqual(sorted(resolved.secret_fields), ["password", "user"])


class ListTests(RegistryTestCase):
    @classmethod
    def setUpClass(cls):
        # server-log takes no config and no secrets: the smallest account.
        stub = pb_grpc.AccountRegistryStub(SERVER.channel)
        cls.server_logs = [f"list-log-{n:02}" for n in range(7)]
        cls.slacks = [f"list-slack-{n:02}" for n in range(3)]
        for account_id in cls.server_logs:
            account = pb.Account(id=account_id, connector_type="server-log", name=account_id)
            stub.PutAccount(pb.PutAccountRequest(account=account), metadata=metadata(ADMIN_TOKEN), timeout=RPC_TIMEOUT)
        for account_id in cls.slacks:
            account = pb.Account(
                id=account_id,
                connector_type="slack",
                name=account_id,
                secrets=to_struct({"webhookUrl": "https://hooks.slack.com/services/T/B/list"}),
            )
            stub.PutAccount(pb.PutAccountRequest(account=account), metadata=metadata(ADMIN_TOKEN), timeout=RPC_TIMEOUT)

    def test_paging_sees_every_account_once(self):
        pages = self.list_pages(page_size=2)
        self.assertGreater(len(pages), 1)
        for page in pages:
            self.assertLessEqual(len(page.accounts), 2)
        for page in pages[:-1]:
            self.assertEqual(len(page.accounts), 2, "only the last page may be short")
        ids = [a.id for page in pages for a in page.accounts]
        self.assertEqual(len(ids), len(set(ids)), "no account twice")
        self.assertEqual(ids, sorted(ids), "ordered by id")
        everything = self.list_ids(page_size=1000)
        self.assertEqual(ids, everything, "pages add up to one big page")
        for account_id in self.server_logs + self.slacks + sorted(PRECONFIGURED_IDS):
            self.assertIn(account_id, ids)

    def test_default_page_size(self):
        page = self.call("ListAccounts", pb.ListAccountsRequest())
        self.assertLessEqual(len(page.accounts), 100)

    def test_filter_by_connector_type(self):
        for connector_type in ("server-log", ".server-log"):
            with self.subTest(connector_type):
                pages = self.list_pages(connector_type=connector_type, page_size=3)
                accounts = [a for page in pages for a in page.accounts]
                self.assertEqual({a.connector_type for a in accounts}, {"server-log"})
                ids = [a.id for a in accounts]
                self.assertEqual(len(ids), len(set(ids)))
                for account_id in self.server_logs:
                    self.assertIn(account_id, ids)
        slack_ids = set(self.list_ids(connector_type="slack", page_size=2))
        self.assertLessEqual(set(self.slacks) | {"ops-slack"}, slack_ids)
        self.assertFalse(set(self.server_logs) & slack_ids)

    def test_unknown_connector_type_filter_is_invalid(self):
        error = self.assert_status(
            grpc.StatusCode.INVALID_ARGUMENT, "ListAccounts", pb.ListAccountsRequest(connector_type="no-such-type")
        )
        self.assertIn("connector_type", error.details())


class SecrecyTests(RegistryTestCase):
    def test_no_secret_value_in_any_get_or_list_response(self):
        """Every valid document is stored with its secrets; no Get or List
        response, for any role, holds a secret value (searched for in the
        serialized bytes), while secret_fields names them."""
        probe = f"probe-secret-{uuid.uuid4().hex}"
        documents = valid_documents()
        documents["probe-webhook"] = {
            "actionTypeId": "webhook",
            "config": {"url": "https://hooks.example.com/probe", "method": "post", "hasAuth": True},
            "secrets": {"user": "probe-user", "password": probe},
        }
        created = {}
        for doc_id, document in documents.items():
            account_id = f"secret-{doc_id}"
            self.put_document(account_id, document)
            created[account_id] = document
        # Secret strings to look for: every one we stored (and the
        # preconfigured ones) that is long enough to be told apart and is not
        # also part of some non-secret text we sent (ids, names, config, and
        # the secret fields' names, which secret_fields lists).
        public_text = repr(
            [(i, d.get("name"), d.get("config"), list(d.get("secrets") or {})) for i, d in created.items()]
        )
        stored = [
            value
            for d in created.values()
            for value in (d.get("secrets") or {}).values()
            if isinstance(value, str) and len(value) >= 8 and value not in public_text
        ]
        wanted = set(stored) | {PRECONFIGURED_SLACK_SECRET, PRECONFIGURED_WEBHOOK_SECRET}
        self.assertIn(probe, wanted)
        self.assertGreater(len(wanted), 15)

        responses = []
        for account_id, document in list(created.items()) + [("ops-slack", None), ("ops-webhook", None)]:
            for token in (ADMIN_TOKEN, PRODUCER_TOKEN, SERVICE_TOKEN):
                read = self.get(account_id, token)
                responses.append((f"GetAccount {account_id}", read))
                self.assertFalse(read.HasField("secrets") and to_dict(read.secrets), "GetAccount returned secrets")
                if document is not None:
                    self.assertEqual(sorted(read.secret_fields), sorted((document.get("secrets") or {}).keys()))
        for token in (ADMIN_TOKEN, PRODUCER_TOKEN, SERVICE_TOKEN):
            for connector_type in ("", "webhook", "slack"):
                for page in self.list_pages(connector_type=connector_type, page_size=7, token=token):
                    responses.append((f"ListAccounts {connector_type!r}", page))
                    for account in page.accounts:
                        self.assertFalse(account.HasField("secrets") and to_dict(account.secrets))
        for what, response in responses:
            data = response.SerializeToString()
            for secret in wanted:
                self.assertFalse(secret.encode() in data, f"{what} holds the secret {secret[:6]}...")

    def test_secret_fields_of_preconfigured_accounts(self):
        self.assertEqual(list(self.get("ops-slack").secret_fields), ["webhookUrl"])
        self.assertEqual(sorted(self.get("ops-webhook").secret_fields), ["password", "user"])


class AuthTests(RegistryTestCase):
    def calls(self):
        """One request of every AccountRegistry method."""
        account = pb.Account(id="auth-x", connector_type="server-log", name="x")
        return [
            ("PutAccount", pb.PutAccountRequest(account=account)),
            ("GetAccount", pb.GetAccountRequest(id="ops-slack")),
            ("ListAccounts", pb.ListAccountsRequest()),
            ("DeleteAccount", pb.DeleteAccountRequest(id="auth-x")),
            ("ListConnectorTypes", pb.ListConnectorTypesRequest()),
            ("ResolveAccount", pb.ResolveAccountRequest(id="ops-slack")),
        ]

    def test_no_token_is_unauthenticated(self):
        for method, request in self.calls():
            with self.subTest(method):
                self.assert_status(grpc.StatusCode.UNAUTHENTICATED, method, request, token=None)

    def test_wrong_token_is_unauthenticated(self):
        for method, request in self.calls():
            with self.subTest(method):
                self.assert_status(grpc.StatusCode.UNAUTHENTICATED, method, request, token=WRONG_TOKEN)

    def test_not_a_bearer_token_is_unauthenticated(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.GetAccount(
                pb.GetAccountRequest(id="ops-slack"),
                metadata=(("authorization", f"Basic {ADMIN_TOKEN}"),),
                timeout=RPC_TIMEOUT,
            )
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_producer_may_not_change_accounts(self):
        account = pb.Account(id="auth-producer", connector_type="server-log", name="x")
        denied = grpc.StatusCode.PERMISSION_DENIED
        self.assert_status(denied, "PutAccount", pb.PutAccountRequest(account=account), PRODUCER_TOKEN)
        self.assert_status(grpc.StatusCode.NOT_FOUND, "GetAccount", pb.GetAccountRequest(id="auth-producer"))
        self.put("auth-producer", "server-log", "x")
        self.assert_status(denied, "DeleteAccount", pb.DeleteAccountRequest(id="auth-producer"), PRODUCER_TOKEN)
        self.assertEqual(self.get("auth-producer").id, "auth-producer")

    def test_service_may_not_change_accounts(self):
        account = pb.Account(id="auth-service", connector_type="server-log", name="x")
        self.assert_status(
            grpc.StatusCode.PERMISSION_DENIED, "PutAccount", pb.PutAccountRequest(account=account), SERVICE_TOKEN
        )

    def test_only_service_may_resolve(self):
        for token in (PRODUCER_TOKEN, ADMIN_TOKEN):
            with self.subTest("producer" if token == PRODUCER_TOKEN else "admin"):
                self.assert_status(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "ResolveAccount",
                    pb.ResolveAccountRequest(id="ops-slack"),
                    token,
                )


class PreconfiguredTests(RegistryTestCase):
    def test_preconfigured_account_reads_as_preconfigured(self):
        read = self.get("ops-slack")
        self.assertTrue(read.preconfigured)
        self.assertEqual(read.connector_type, "slack")
        self.assertEqual(read.name, "Ops")
        kibana_shaped = self.get("ops-webhook")
        self.assertTrue(kibana_shaped.preconfigured)
        self.assertEqual(kibana_shaped.connector_type, "webhook")
        self.assertEqual(to_dict(kibana_shaped.config)["url"], "https://hooks.example.com/ops", "exposeConfig")

    def test_service_resolves_preconfigured_secrets(self):
        self.assertEqual(to_dict(self.resolve("ops-slack").secrets), {"webhookUrl": PRECONFIGURED_SLACK_SECRET})

    def test_put_of_preconfigured_account_fails_precondition(self):
        version = self.get("ops-slack").version
        for v in (0, version):
            with self.subTest(version=v):
                account = pb.Account(
                    id="ops-slack",
                    connector_type="slack",
                    name="Changed",
                    secrets=to_struct({"webhookUrl": "https://hooks.slack.com/services/T/B/changed"}),
                    version=v,
                )
                self.assert_status(
                    grpc.StatusCode.FAILED_PRECONDITION, "PutAccount", pb.PutAccountRequest(account=account)
                )
        self.assertEqual(self.get("ops-slack").name, "Ops")
        self.assertEqual(to_dict(self.resolve("ops-slack").secrets), {"webhookUrl": PRECONFIGURED_SLACK_SECRET})

    def test_delete_of_preconfigured_account_fails_precondition(self):
        self.assert_status(
            grpc.StatusCode.FAILED_PRECONDITION, "DeleteAccount", pb.DeleteAccountRequest(id="ops-slack")
        )
        self.assertTrue(self.get("ops-slack").preconfigured)


class ServerTests(RegistryTestCase):
    def test_health_is_serving(self):
        health = health_pb2_grpc.HealthStub(SERVER.channel)
        for service in ("", "herald.v1.AccountRegistry"):
            with self.subTest(service=service):
                reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT)
                self.assertEqual(reply.status, health_pb2.HealthCheckResponse.SERVING)

    def test_reflection_lists_the_services(self):
        for version in ("v1", "v1alpha"):
            with self.subTest(version=version):
                services = reflection_services(version)
                self.assertIn("herald.v1.AccountRegistry", services)
                self.assertIn("grpc.health.v1.Health", services)


def reflection_services(version):
    """Service names listed by server reflection `version`; v1 and v1alpha
    share their messages, so one set of stubs serves both."""
    call = SERVER.channel.stream_stream(
        f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    responses = list(call(iter([request]), timeout=RPC_TIMEOUT))
    return {s.name for r in responses for s in r.list_services_response.service}


def main():
    """Runs the suite and closes with a plain `N passed, N failed` line."""
    result = unittest.main(verbosity=2, exit=False).result
    failed = {getattr(test, "test_case", test).id() for test, _ in result.failures + result.errors}
    failed |= {test.id() for test in result.unexpectedSuccesses}
    passed = max(result.testsRun - len(failed) - len(result.skipped), 0)
    print(f"conformance: {passed} passed, {len(failed)} failed, {len(result.skipped)} skipped")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
