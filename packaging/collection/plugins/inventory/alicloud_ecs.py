# Copyright: alicloud_inventory developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
name: alicloud_ecs
short_description: Alibaba Cloud ECS inventory, from the alicloud_inventory binary
description:
  - Lists the ECS instances of one or more Alibaba Cloud accounts as hosts, in groups, with their
    hostvars, by running the C(alicloud_inventory) binary (Rust) on this file with
    C(--config FILE --list) and adding what it prints.
  - The file's name must end in C(alicloud.yml) or C(alicloud.yaml), as with the
    alibaba.alicloud.alicloud_ecs plugin; a file written for that plugin changes only its
    C(plugin) line.
  - The binary keeps its own cache (C(cache), C(cache_timeout), C(cache_connection)); a warm run
    makes no API call. C(--flush-cache) and C(meta) C(refresh_inventory) refresh it.
  - Every option below is read by the binary from the file, with the meaning the project's README
    gives it ("The alicloud_ecs plugin's YAML"). Options of alicloud.ini can be written under
    their own names.
  - Credentials come first from the environment (C(ALICLOUD_ACCESS_KEY), C(ALICLOUD_SECRET_KEY),
    C(ALICLOUD_SECURITY_TOKEN), C(ALICLOUD_REGION), C(ALICLOUD_PROFILE),
    C(ALICLOUD_ECS_ROLE_NAME), C(ALICLOUD_ASSUME_ROLE_ARN), ...), then from this file.
  - Every hostvar string is untrusted, so Ansible never renders a template found in cloud data.
author:
  - alicloud_inventory developers
version_added: 0.1.0
requirements:
  - the alicloud_inventory binary of the same version (the alicloud_inventory wheel installs it
    beside the Python that runs Ansible)
options:
  plugin:
    description: The name of this plugin; it marks the file as this plugin's.
    required: true
    type: str
    choices: [alicloud_inventory.ecs.alicloud_ecs, alicloud_ecs]
  executable:
    description:
      - The alicloud_inventory binary to run.
      - By default the one beside the Python that runs Ansible (where the wheel puts it), then
        C(alicloud_inventory) on C(PATH).
    type: path
    env:
      - name: ALICLOUD_INVENTORY_EXECUTABLE
  regions:
    description:
      - The regions to list; empty (or C(all)) means every region DescribeRegions returns.
    type: list
    elements: str
    default: []
  regions_exclude:
    description: Regions taken out of C(regions).
    type: list
    elements: str
    default: []
  hostnames:
    description:
      - Precedence list of host names, as the alicloud_ecs plugin reads it; the first entry
        that gives a name wins. An entry is a hostvar name (C(instance_id), C(instance_name),
        C(private_ip_address), ...), C(tag:KEY), C(tag:K1,K2=V), a mapping C(tags) with value
        C(K1,K2=V), aws_ec2's mapping C({name, prefix, separator}), or a text holding
        C({{ }}), rendered per host like C(compose).
      - Names are kept as they are; a name holding C(:) is sanitized as group names are. An
        instance no entry names is named by its address, else its id (the plugin drops it).
        Replaces C(hostname_variable).
    type: list
    elements: raw
    default: [instance_id, instance_name]
  hostname_variable:
    description:
      - The hostvar (or C(tag_KEY)) that names a host, as in alicloud.ini; empty means the address.
    type: str
    default: instance_id
  filters:
    description:
      - DescribeInstances filters, ANDed; the keys of alicloud.ini's C(instance_filters)
        (C(instance_type), C(vpc_id), C(zone_id), C(instance_ids), C('tag:KEY'), ...), and
        footmark's C(tags) mapping of tag keys to values.
      - A list value matches any of its items, as in aws_ec2. C(instance_ids) and the address
        keys send the list in one request; any other list costs one listing per item.
    type: raw
    aliases: [instance_filters]
  strict_permissions:
    description:
      - As in aws_ec2. When false, a region that refuses DescribeInstances (403, C(Forbidden*),
        C(NoPermission)) is left out with a warning instead of failing the run.
    type: bool
    default: true
  hostvars_prefix:
    description: As in aws_ec2, put before the name of every hostvar from the API (not composed ones, not C(ansible_*)); expressions use the new names.
    type: str
  hostvars_suffix:
    description: As in aws_ec2, put after the name of every hostvar from the API (not composed ones, not C(ansible_*)).
    type: str
  include_filters:
    description:
      - As in aws_ec2, a list of C(filters) mappings; an instance matching C(filters) or any
        entry is listed. Each entry is its own listing of every region.
    type: list
    elements: dict
    default: []
  exclude_filters:
    description:
      - As in aws_ec2, a list of C(filters) mappings; an instance matching any entry is left
        out, whatever else it matches. Each entry is its own listing of every region.
    type: list
    elements: dict
    default: []
  all_instances:
    description:
      - Keep instances in every state, as the alicloud_ecs plugin does; C(false) keeps
        C(instance_states). Setting C(instance_states) alone also narrows.
    type: bool
    default: true
  instance_states:
    description: The instance states kept (pending, running, starting, stopping, stopped).
    type: list
    elements: str
  destination_variable:
    description:
      - The hostvar used as the address (C(ansible_host)); a list is a preference order.
      - An instance without it still listed, with no C(ansible_host); set this option to
        leave such instances out, as alicloud.ini does.
    type: list
    elements: str
    default: [public_ip_address]
  destination_format:
    description: With C(destination_format_tags), the address is this format with C({0}), C({1}) replaced by tag values.
    type: str
  destination_format_tags:
    description: The tags whose values fill C(destination_format).
    type: list
    elements: str
  pattern_include:
    description: Keep only hosts whose name matches this regular expression (at the start).
    type: str
  pattern_exclude:
    description: Leave out hosts whose name matches this regular expression (at the start).
    type: str
  nested_groups:
    description: Also make parent groups (regions, zones, types, tags, ...).
    type: bool
    default: false
  replace_dash_in_groups:
    description: Replace C(-) with C(_) in group and host names.
    type: bool
    default: true
  ascii_group_names:
    description: Map every non-ASCII character of group names to C(_), as alicloud.py did.
    type: bool
    default: false
  use_contrib_script_compatible_sanitization:
    description:
      - As in the alicloud_ecs plugin, constructed group names (and host names holding C(:))
        keep C(-) and turn every character outside C([A-Za-z0-9_-]) into C(_), with no other
        change. The C(group_by_*) groups, when asked for, take C(replace_dash_in_groups=false)
        and C(ascii_group_names=true).
    type: bool
    default: false
  expand_csv_tags:
    description: A tag value C(a,b,c) makes one group per value.
    type: bool
    default: false
  legacy_tags_hostvar:
    description: Also give the tag map as the hostvar C(tags) (it is always C(ecs_tags)).
    type: bool
    default: false
  group_by_instance_id:
    description: A group per instance id (the C(group_by_*) groups are alicloud.ini's; the plugin makes none).
    type: bool
    default: false
  group_by_region:
    description: A group per region.
    type: bool
    default: false
  group_by_availability_zone:
    description: A group per zone.
    type: bool
    default: false
  group_by_image_id:
    description: A group per image.
    type: bool
    default: false
  group_by_instance_type:
    description: A group per instance type (C(type_...)).
    type: bool
    default: false
  group_by_vpc_id:
    description: A group per VPC (C(vpc_id_...)).
    type: bool
    default: false
  group_by_vswitch_id:
    description: A group per vSwitch (C(subnet_...)).
    type: bool
    default: false
  group_by_security_group:
    description: A group per security group.
    type: bool
    default: false
  group_by_tag_keys:
    description: Groups C(tag_KEY_VALUE) per tag.
    type: bool
    default: false
  group_by_tag_none:
    description: The group C(tag_none) of untagged hosts.
    type: bool
    default: false
  group_by_instance_state:
    description: Groups C(state_STATE).
    type: bool
    default: false
  group_by_os_type:
    description: Groups C(os_TYPE).
    type: bool
    default: false
  group_by_key_pair:
    description: Groups C(key_pair_NAME).
    type: bool
    default: false
  group_by_resource_group:
    description: Groups C(resource_group_ID).
    type: bool
    default: false
  group_by_charge_type:
    description: Groups C(charge_TYPE).
    type: bool
    default: false
  accounts:
    description:
      - Several accounts in one inventory; a list of mappings with a unique C(alias) and at most
        one of C(role_arn), C(profile), C(alicloud_access_key) with C(alicloud_secret_key),
        C(alicloud_ecs_role_name); optional C(regions), C(regions_exclude).
    type: raw
  group_by_account:
    description: Groups C(account_ALIAS); default true when C(accounts) is set.
    type: bool
  skip_failed_accounts:
    description: Leave out an account that fails, with a warning, instead of failing the run.
    type: bool
    default: false
  compose:
    description: Variables made from Jinja expressions over each host's hostvars, as Ansible's constructed plugin makes them.
    type: dict
    default: {}
  groups:
    description: Groups of the hosts for which a Jinja condition is true.
    type: dict
    default: {}
  keyed_groups:
    description:
      - Groups named by the values of expressions; each entry has C(key) and optionally
        C(prefix), C(separator), C(default_value), C(trailing_separator), C(parent_group).
    type: list
    elements: dict
    default: []
  strict:
    description: Fail the run when an entry of C(compose), C(groups) or C(keyed_groups) fails for a host.
    type: bool
    default: false
  leading_separator:
    description: A keyed group with an empty prefix starts with the separator.
    type: bool
    default: true
  hostvars:
    description:
      - Glob patterns (C(*), C(?)) of the hostvars to print; composed variables, C(ansible_host)
        and C(ansible_ssh_host) are always printed. Empty means every hostvar.
      - Fewer hostvars make Ansible load the inventory several times faster.
    type: list
    elements: str
    default: []
  cache:
    description: Use the binary's cache; C(false) always calls the API.
    type: bool
    default: true
  cache_timeout:
    description: Seconds the cache stays fresh.
    type: int
    default: 300
    aliases: [cache_max_age]
  cache_connection:
    description: The cache directory.
    type: path
    default: ~/.cache/alicloud_inventory
    aliases: [cache_path]
  cache_plugin:
    description: Accepted and ignored; the cache is the binary's own.
    type: str
  cache_prefix:
    description: Accepted and ignored; the cache is the binary's own.
    type: str
  ecs_endpoint:
    description: The ECS endpoint, C({region}) replaced (default the region's own); C(ALICLOUD_ECS_ENDPOINT) beats it.
    type: str
    aliases: [endpoint_url]
  sts_endpoint:
    description: The STS endpoint; C(ALICLOUD_STS_ENDPOINT) beats it.
    type: str
  max_concurrency:
    description: Requests in flight at once per account and region (lowered while throttled).
    type: int
    default: 8
  timeout:
    description: Seconds per request.
    type: int
    default: 10
  max_retries:
    description: Retries of 5xx, timeouts and connection errors (throttling waits instead).
    type: int
    default: 5
  throttle_window:
    description: Seconds of the service's throttling window (windows aligned to its clock); a
      throttled region's calls to that operation wait for the next one.
    type: float
    default: 60
  throttle_wait:
    description: Seconds a region may wait in all for throttled windows before the run fails.
    type: float
    default: 70
  alicloud_access_key:
    description: Access key id (the environment's C(ALICLOUD_ACCESS_KEY) comes first).
    type: str
    aliases: [access_key, access_key_id]
  alicloud_secret_key:
    description: Access key secret (the environment's C(ALICLOUD_SECRET_KEY) comes first).
    type: str
    aliases: [secret_key, secret_access_key]
  alicloud_security_token:
    description: STS security token (C(ALICLOUD_SECURITY_TOKEN) comes first).
    type: str
    aliases: [security_token, session_token]
  alicloud_region:
    description: The region for DescribeRegions and STS (C(ALICLOUD_REGION) or C(ALICLOUD_REGION_ID) comes first).
    type: str
    default: cn-hangzhou
    aliases: [region, region_id]
  alicloud_protocol:
    description: C(https) only; requests are never sent in clear.
    type: str
    default: https
    aliases: [protocol]
  ecs_role_name:
    description: The ECS RAM role of this machine, read from the metadata service.
    type: str
    aliases: [alicloud_ecs_role_name, role_name]
  assume_role_arn:
    description: The role to assume, as C(role_arn) of C(alicloud_assume_role) (C(ALICLOUD_ASSUME_ROLE_ARN) comes first).
    type: str
    aliases: [alicloud_assume_role_arn]
  assume_role_session_name:
    description: Its session name, as C(session_name) of C(alicloud_assume_role).
    type: str
    aliases: [alicloud_assume_role_session_name]
  assume_role_session_expiration:
    description: Its session's seconds (900 to 43200), as C(session_expiration) of C(alicloud_assume_role).
    type: int
    aliases: [alicloud_assume_role_session_expiration]
  profile:
    description: An aliyun CLI profile.
    type: str
    aliases: [alicloud_profile]
  shared_credentials_file:
    description: The aliyun CLI configuration file (default C(~/.aliyun/config.json)).
    type: path
    aliases: [alicloud_shared_credentials_file]
  alicloud_assume_role:
    description:
      - A role to assume on top of the credentials, C({role_arn, session_name,
        session_expiration, policy}).
    type: raw
    aliases: [assume_role]
notes:
  - The binary's cache is keyed by everything that changes the answer; secrets are never part of
    it, of its output or of its messages.
"""

EXAMPLES = r"""
# prod.alicloud.yml, used as: ansible-inventory -i prod.alicloud.yml --graph
plugin: alicloud_inventory.ecs.alicloud_ecs
regions: [cn-hangzhou, cn-shanghai]
hostnames: [instance_name, instance_id]
keyed_groups:
  - key: ecs_tags.role
    prefix: role
compose:
  ansible_host: private_ip_address
# only these hostvars (and the composed ones): Ansible loads the inventory much faster
hostvars: [instance_id, instance_name, instance_type, private_ip_address, ecs_tags, "region*"]
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

# Written from Cargo.toml by packaging/build.sh; the binary must be of the same version.
COLLECTION_VERSION = "0.1.0"
BINARY = "alicloud_inventory"
FQCN = "alicloud_inventory.ecs.alicloud_ecs"
UNSAFE = "__ansible_unsafe"
# The one line the binary writes for a failure, and the prefix of its warnings.
ERROR_PREFIX = BINARY + ": error: "
WARNING_PREFIX = BINARY + ": warning: "


def _untrusted(obj):
    # The binary writes a string holding {{, {% or {# as {"__ansible_unsafe": "..."}. A plain
    # str set by a plugin is untrusted on ansible-core 2.19+ (no TrustedAsTemplate tag), so it
    # is only ever printed, never rendered.
    if len(obj) == 1 and UNSAFE in obj and type(obj[UNSAFE]) is str:
        return obj[UNSAFE]
    return obj


class InventoryModule(BaseInventoryPlugin):
    NAME = FQCN

    # the binary's path -> its version, checked once per process
    _versions = {}

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("alicloud.yml", "alicloud.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path)
        self._read_options(path)
        exe = self._executable()
        self._check_version(exe)

        cmd = [exe, "--config", path, "--list"]
        if not cache:
            # --flush-cache and meta: refresh_inventory
            cmd.append("--refresh-cache")
        verbose = self.display.verbosity >= 3
        if verbose:
            cmd.append("-v")
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except OSError as e:
            raise AnsibleParserError(f"cannot run {exe}: {e}")
        stderr = proc.stderr.decode("utf-8", "replace").splitlines()
        if proc.returncode != 0:
            # the binary's one line names the cause and the fix
            lines = [line for line in stderr if line.strip()]
            error = [line for line in lines if line.startswith(ERROR_PREFIX)]
            message = (error or lines or [f"{BINARY} exited {proc.returncode} without a message"])[-1]
            raise AnsibleParserError(message)
        for line in stderr:
            if line.startswith(WARNING_PREFIX):
                self.display.warning(BINARY + ": " + line[len(WARNING_PREFIX):])
            elif line.strip():
                # -v diagnostics; any other line is a warning too, so nothing is lost
                if verbose:
                    self.display.vvv(line)
                else:
                    self.display.warning(line)
        self._populate(proc.stdout, path)

    def _read_options(self, path):
        try:
            config = self.loader.load_from_file(path, cache="none")
        except Exception as e:
            raise AnsibleParserError(f"{path}: {e}")
        if not isinstance(config, dict):
            raise AnsibleParserError(f"{path}: the inventory file must be a mapping of options")
        if config.get("plugin") not in (FQCN, "alicloud_ecs"):
            raise AnsibleParserError(f"Incorrect plugin name in file: {config.get('plugin', 'none found')}")
        # validates the options against DOCUMENTATION; the binary reads the file itself
        self.set_options(direct=config, var_options=self._vars)

    def _executable(self):
        configured = self.get_option("executable")
        if configured:
            if not os.access(configured, os.X_OK):
                raise AnsibleParserError(f"executable {configured} is not an executable file (fix the option or ALICLOUD_INVENTORY_EXECUTABLE)")
            return configured
        # the wheel installs the binary among the scripts of the Python that runs Ansible
        # (a venv's bin/, pipx's or uv's tool venv, ~/.local/bin for pip --user)
        dirs = [os.path.dirname(sys.executable), sysconfig.get_path("scripts")]
        try:
            dirs.append(sysconfig.get_path("scripts", f"{os.name}_user"))
        except KeyError:
            pass
        for d in dirs:
            candidate = os.path.join(d or "", BINARY)
            if d and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        found = shutil.which(BINARY)
        if found:
            return found
        raise AnsibleParserError(
            f"{BINARY} {COLLECTION_VERSION} not found beside {sys.executable} nor on PATH: install it into the "
            f"Python that runs Ansible (pip install alicloud_inventory=={COLLECTION_VERSION}), put it on PATH, "
            "or set the executable option"
        )

    def _check_version(self, exe):
        version = self._versions.get(exe)
        if version is None:
            try:
                out = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, check=False).stdout.decode("utf-8", "replace")
            except OSError as e:
                raise AnsibleParserError(f"cannot run {exe}: {e}")
            m = re.match(r"\S+ (\S+)", out.strip())
            version = m.group(1) if m else "unknown"
            self._versions[exe] = version
        if version != COLLECTION_VERSION:
            raise AnsibleParserError(
                f"{exe} is version {version}, but the collection alicloud_inventory.ecs is {COLLECTION_VERSION}: "
                f"install the matching binary (pip install alicloud_inventory=={COLLECTION_VERSION} into the Python "
                "that runs Ansible, which brings both), or point the executable option at a "
                f"{COLLECTION_VERSION} binary"
            )

    def _populate(self, stdout, path):
        try:
            text = stdout.decode("utf-8")
            # the hook runs once per JSON object: skipped when no value is marked
            hook = _untrusted if UNSAFE in text else None
            data = json.loads(text, object_hook=hook)
        except ValueError as e:
            raise AnsibleParserError(f"{BINARY} --config {path} --list printed no valid JSON: {e}")
        if not isinstance(data, dict):
            raise AnsibleParserError(f"{BINARY} --config {path} --list printed no JSON object")

        inventory = self.inventory
        add_group = inventory.add_group
        add_host = inventory.add_host
        add_child = inventory.add_child
        # Ansible hands plugins a proxy whose set_variable walks every value again to tag it
        # with its origin (and with trust, for plugins that ask for it). This plugin asks for no
        # trust and the values are plain JSON types, so they go to the inventory itself: the
        # same untrusted values, without that second walk (a third of a large inventory's load).
        set_variable = getattr(inventory, "__wrapped__", inventory).set_variable
        # Groups, hosts and children in the binary's order, as the script plugin adds them, so
        # that ansible-inventory --graph draws what alicloud_inventory --graph draws.
        hosts = {}
        for group, body in data.items():
            if group == "_meta":
                continue
            if not isinstance(body, dict):
                raise AnsibleParserError(f"{BINARY} printed group {group!r} as {type(body).__name__}, not a mapping")
            group = add_group(group)
            for host in body.get("hosts", ()):
                hosts[host] = None
                add_host(host, group)
            for name, value in body.get("vars", {}).items():
                set_variable(group, name, value)
            for child in body.get("children", ()):
                add_child(group, add_group(child))
        # each host's vars once, for the hosts of the groups (as the script plugin does)
        hostvars = data.get("_meta", {}).get("hostvars", {})
        for host, variables in hostvars.items():
            if host in hosts:
                for name, value in variables.items():
                    set_variable(host, name, value)
