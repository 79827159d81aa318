"""infrastructure/terraform against the AWS provider's own schema, without Terraform.

No `terraform validate` runs here (no Terraform binary, no registry): the schema comes from the
generated bindings of @cdktf/provider-aws, whose package.json names the provider release they were
generated from (cdktf.provider.version). Each resource and data source has a Config interface in
lib/<type>/index.d.ts (and index-structs/*.d.ts) whose properties carry the Terraform name in their
doc link ("...docs/resources/dynamodb_table#billing_mode DynamodbTable#billing_mode"); a property
whose type is another interface of that folder is a nested block. So every resource type, data
source, argument and nested block (dynamic blocks included) of the configuration is looked up in
the schema of the release that `terraform init` installs for the versions.tf constraint.

The bindings do not carry the schema's `deprecated` flags (their .jsii has none), so deprecated
arguments come from the provider's own deprecation list for that release (DEPRECATED below, from the
provider's v5 upgrade guide and changelog); each one found is printed as a warning, never silently.

The package (34 MB packed, 361 MB and 4,314 files unpacked) is not installed: `npm pack` fetches the
tarball once into build/provider-schema/ and only the folders of the types in use are read from it.
Run by ctest (label infra) with Debian's /usr/bin/python3 (node and hcl2json from tests/infra).
"""
import glob
import json
import os
import re
import subprocess
import sys
import tarfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DINEX_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TF_DIR = os.path.join(ROOT, "infrastructure", "terraform")
CACHE = os.path.join(ROOT, "build", "provider-schema")

# The newest AWS provider release that versions.tf's constraint admits, and the bindings made
# from it. Moving the constraint makes test_the_bindings_match_the_constraint fail until these move.
PACKAGE = "@cdktf/provider-aws"
PACKAGE_VERSION = "20.1.0"
PROVIDER_VERSION = "5.100.0"

META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
# Arguments that the AWS provider 5.x keeps but deprecates (its resource documentation), by type:
# the bindings lack the schema's flag, so this list stands in for it. Arguments removed in 5.0
# need no entry: they are missing from the schema and fail as unknown.
DEPRECATED = {
    "aws_s3_bucket": {"acceleration_status", "acl", "cors_rule", "grant", "lifecycle_rule", "logging",
                      "object_lock_configuration", "policy", "replication_configuration", "request_payer",
                      "server_side_encryption_configuration", "versioning", "website"},
    "aws_iam_role": {"inline_policy", "managed_policy_arns"},
    "aws_sqs_queue": set(),
    "provider": set(),
}


def fetch_package():
    """The bindings' tarball, from the npm registry once, then from build/provider-schema."""
    os.makedirs(CACHE, exist_ok=True)
    tarball = os.path.join(CACHE, "cdktf-provider-aws-%s.tgz" % PACKAGE_VERSION)
    if not os.path.exists(tarball):
        run = subprocess.run(["npm", "pack", "%s@%s" % (PACKAGE, PACKAGE_VERSION), "--pack-destination", CACHE],
                             capture_output=True, text=True, timeout=600, check=False)
        if run.returncode != 0 or not os.path.exists(tarball):
            raise RuntimeError("npm pack %s@%s failed:\n%s" % (PACKAGE, PACKAGE_VERSION, run.stderr))
    return tarball


def folder_of(kind, tf_type):
    name = tf_type[len("aws_"):].replace("_", "-") if tf_type.startswith("aws_") else tf_type
    return ("data-aws-" + name) if kind == "data" else name


def read_bindings(tarball, folders):
    """{folder: {path: d.ts text}} for the folders asked, plus package.json."""
    wanted = {"package/lib/%s/" % f: f for f in folders}
    files = {f: {} for f in folders}
    package_json = None
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if member.name == "package/package.json":
                package_json = json.load(tar.extractfile(member))
                continue
            if not member.name.endswith(".d.ts"):
                continue
            for prefix, folder in wanted.items():
                if member.name.startswith(prefix):
                    files[folder][member.name] = tar.extractfile(member).read().decode("utf-8")
    return package_json, files


INTERFACE = re.compile(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}", re.S | re.M)
PROPERTY = re.compile(r"/\*\*(?:(?!\*/).)*?\{@link https://registry\.terraform\.io/\S+#(\w+) \w+#\w+\}(?:(?!\*/).)*?\*/\s*"
                      r"readonly (\w+)(\??): ([^;]+);", re.S)


def schema_of(texts, config_interface):
    """{tf_name: nested schema or None (an attribute)} from the Config interface down."""
    interfaces = {}
    for text in texts.values():
        for m in INTERFACE.finditer(text):
            interfaces[m.group(1)] = m.group(2)
    if config_interface not in interfaces:
        return None

    def walk(name, depth=0):
        out = {}
        for m in PROPERTY.finditer(interfaces[name]):
            tf_name, type_text = m.group(1), m.group(4)
            nested = [t for t in re.findall(r"\b(\w+)\b", type_text) if t in interfaces and t != name]
            out[tf_name] = walk(nested[0], depth + 1) if nested and depth < 12 else None
        return out

    return walk(config_interface)


def config_interface_of(texts):
    for text in texts.values():
        m = re.search(r"^export interface (\w+Config) extends cdktf\.TerraformMetaArguments", text, re.M)
        if m:
            return m.group(1)
    m = None
    for text in texts.values():
        m = re.search(r"^export interface (\w+Config) \{", text, re.M)
        if m:
            return m.group(1)
    return None


def check_body(body, schema, where, problems, deprecated, deprecations):
    for key, value in body.items():
        if key in META_ARGUMENTS:
            continue
        if key == "dynamic":
            for block_name, blocks in value.items():
                if block_name not in schema or schema[block_name] is None:
                    problems.append("%s: dynamic block %s is not a block of the schema" % (where, block_name))
                    continue
                for block in blocks:
                    for content in block.get("content", []):
                        check_body(content, schema[block_name], "%s.%s" % (where, block_name), problems, set(),
                                   deprecations)
            continue
        if key not in schema:
            problems.append("%s: %s is not an argument or block of the schema" % (where, key))
            continue
        if key in deprecated:
            deprecations.append("%s: %s is deprecated in the AWS provider %s" % (where, key, PROVIDER_VERSION))
        nested = schema[key]
        if nested is not None:
            if not (isinstance(value, list) and all(isinstance(b, dict) for b in value)):
                problems.append("%s: %s is a block in the schema, written as an argument" % (where, key))
                continue
            for block in value:
                check_body(block, nested, "%s.%s" % (where, key), problems, set(), deprecations)


def parse_terraform():
    files = sorted(glob.glob(os.path.join(TF_DIR, "*.tf")))
    run = subprocess.run(["node", os.path.join(HERE, "hcl2json.mjs"), *files], cwd=HERE, capture_output=True,
                         text=True, timeout=120, check=False)
    if run.returncode != 0:
        raise RuntimeError("HCL parse failed:\n" + run.stderr)
    return json.loads(run.stdout)


def version_tuple(text):
    return tuple(int(x) for x in text.split("."))


def satisfies(version, constraint):
    """Terraform's version constraint syntax: comma-separated ~>, >=, >, <=, <, =, !=."""
    v = version_tuple(version)
    for part in (p.strip() for p in constraint.split(",")):
        m = re.fullmatch(r"(~>|>=|<=|!=|>|<|=)?\s*([\d.]+)", part)
        if not m:
            raise ValueError("cannot read the constraint " + constraint)
        op, bound = m.group(1) or "=", m.group(2)
        b = version_tuple(bound)
        padded = b + (0,) * (len(v) - len(b))
        if op == "~>":
            upper = b[:-1]
            ok = v >= padded and v[:len(upper)] == upper
        else:
            ok = {">=": v >= padded, "<=": v <= padded, ">": v > padded, "<": v < padded, "=": v == padded,
                  "!=": v != padded}[op]
        if not ok:
            return False
    return True


class ProviderSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.parsed = parse_terraform()
        cls.used = {}  # (kind, type) -> [(file, name, body)]
        cls.provider_blocks = []
        cls.constraint = None
        for path, doc in cls.parsed.items():
            rel = os.path.relpath(path, TF_DIR)
            for kind in ("resource", "data"):
                for tf_type, by_name in doc.get(kind, {}).items():
                    for name, bodies in by_name.items():
                        for body in bodies:
                            cls.used.setdefault((kind, tf_type), []).append((rel, name, body))
            for body in doc.get("provider", {}).get("aws", []):
                cls.provider_blocks.append((rel, body))
            for tf in doc.get("terraform", []):
                for req in tf.get("required_providers", []):
                    if "aws" in req:
                        cls.constraint = req["aws"]["version"]
        folders = {folder_of(kind, t) for kind, t in cls.used} | {"provider"}
        cls.tarball = fetch_package()
        cls.package_json, cls.bindings = read_bindings(cls.tarball, folders)
        print("\nprovider schema: %s@%s, generated from hashicorp/aws %s; versions.tf asks %s"
              % (PACKAGE, PACKAGE_VERSION, cls.package_json["cdktf"]["provider"]["version"], cls.constraint),
              file=sys.stderr)

    def test_the_bindings_match_the_constraint(self):
        provider = self.package_json["cdktf"]["provider"]
        self.assertEqual(provider["name"], "registry.terraform.io/hashicorp/aws")
        self.assertEqual(provider["version"], PROVIDER_VERSION)
        self.assertIsNotNone(self.constraint, "versions.tf has no aws version constraint")
        self.assertTrue(satisfies(PROVIDER_VERSION, self.constraint),
                        "%s does not satisfy versions.tf's %s: move PACKAGE_VERSION" % (PROVIDER_VERSION, self.constraint))
        # The newest 5.x: the next major (6.0.0) is outside the constraint.
        self.assertFalse(satisfies("6.0.0", self.constraint))

    def test_every_resource_argument_and_block_exists(self):
        problems, deprecations = [], []
        for (kind, tf_type), uses in sorted(self.used.items()):
            texts = self.bindings.get(folder_of(kind, tf_type), {})
            interface = config_interface_of(texts)
            schema = schema_of(texts, interface) if interface else None
            if not schema:
                problems.append("%s %s is not a %s of the AWS provider %s" % (kind, tf_type,
                                "resource type" if kind == "resource" else "data source", PROVIDER_VERSION))
                continue
            for rel, name, body in uses:
                check_body(body, schema, "%s: %s.%s" % (rel, tf_type, name), problems,
                           DEPRECATED.get(tf_type, set()) if kind == "resource" else set(), deprecations)
        for rel, body in self.provider_blocks:
            texts = self.bindings["provider"]
            schema = schema_of(texts, config_interface_of(texts))
            self.assertTrue(schema, "no provider schema in the bindings")
            check_body({k: v for k, v in body.items() if k != "alias"}, schema, "%s: provider aws" % rel, problems,
                       DEPRECATED["provider"], deprecations)
        for d in deprecations:
            print("WARNING deprecated: " + d, file=sys.stderr)
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertEqual(deprecations, [], "\n".join(deprecations))

    def test_the_check_finds_what_is_wrong(self):
        # The checker itself: a misspelt argument, an argument used as a block, an unknown block.
        texts = self.bindings[folder_of("resource", "aws_dynamodb_table")]
        schema = schema_of(texts, config_interface_of(texts))
        self.assertIsNone(schema["billing_mode"])
        self.assertIsNotNone(schema["attribute"])
        self.assertIn("name", schema["attribute"])
        problems = []
        check_body({"billing_mod": "PAY_PER_REQUEST", "attribute": [{"name": "pk", "typ": "S"}],
                    "ttl": {"enabled": True}, "dynamic": {"nope": [{"content": [{}]}]}},
                   schema, "t", problems, set(), [])
        self.assertEqual(len(problems), 4, problems)
        deprecations = []
        check_body({"acl": "private"}, {"acl": None}, "b", [], {"acl"}, deprecations)
        self.assertEqual(len(deprecations), 1)
        self.assertTrue(satisfies("5.60.0", "~> 5.60"))
        self.assertFalse(satisfies("5.59.9", "~> 5.60"))
        self.assertTrue(satisfies("1.2.9", "~> 1.2.3"))
        self.assertFalse(satisfies("1.3.0", "~> 1.2.3"))


if __name__ == "__main__":
    unittest.main()
