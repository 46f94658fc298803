#!/usr/bin/env python3
"""Helpers of the end-to-end suite (tests/e2e/run.sh).

Every subcommand prints what is wrong on stderr and exits 1 when a check fails, 0 when it holds.
The expectation is computed from the fleet file alone, by the rules of docs/DESIGN.md ("Groups and names")
with the default alicloud.ini options, independently of the Rust code under test.

    e2e.py expect FLEET                 -> expected.json on stdout
    e2e.py expect-accounts ALIAS:ID:FLEET...   -> the same for an inventory over several accounts
    e2e.py check-raw EXPECTED OUT       the binary's own --list output
    e2e.py check-host EXPECTED LIST OUT NAME   --host NAME equals _meta.hostvars[NAME]
    e2e.py check-list EXPECTED OUT      ansible-inventory --list output
    e2e.py check-graph EXPECTED OUT     ansible-inventory --graph output
    e2e.py check-adhoc EXPECTED OUT GROUP    ansible -m ping output, for GROUP's hosts
    e2e.py check-ssh-connection EXPECTED OUT PORT   ansible -m raw 'echo $SSH_CONNECTION'
    e2e.py check-concurrent EXPECTED DIR       outputs of the concurrent readers
    e2e.py check-cache DIR SECRET        cache files private, secret absent
    e2e.py constructed-configs DIR CACHE   the constructed configurations, as Ansible's
                                        constructed plugin's files and as alicloud.yml files
    e2e.py check-constructed ANSIBLE OURS CONFIG   ansible-inventory --list of our plain output
                                        under Ansible's constructed plugin, against ours
    e2e.py check-strict-failure OURS_ERR ANSIBLE_ERR LENIENT_LIST   both refuse the same entry
    e2e.py sdk EXPECTED ENDPOINT AK SECRET   the official Python SDK against the simulator
    e2e.py hostile-fleet FLEET OUT DIR   the fleet with template payloads in one instance's
                                        fields (markers in DIR); prints its instance group
    e2e.py check-hostile DIR DEBUG RENDERED   no payload ran; each was printed as text
"""

import ipaddress
import json
import os
import re
import stat
import sys
import unicodedata


def problem(msg):
    print(msg, file=sys.stderr)


def finish(problems):
    for p in problems[:25]:
        problem("  " + p)
    if len(problems) > 25:
        problem("  ... and %d more" % (len(problems) - 25))
    sys.exit(1 if problems else 0)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------------------------
# The expectation


def sanitize(text):
    """docs/DESIGN.md, "Groups and names": keep `_`, ASCII letters and digits, non-ASCII letters (L*) and decimal digits (Nd);
    every other character becomes one `_`; a leading digit gets a `_` in front."""
    out = []
    for c in text:
        if c == "_" or (c.isascii() and c.isalnum()):
            out.append(c)
        elif not c.isascii() and (unicodedata.category(c).startswith("L") or unicodedata.category(c) == "Nd"):
            out.append(c)
        else:
            out.append("_")
    name = "".join(out)
    if name and unicodedata.category(name[0]) == "Nd":
        name = "_" + name
    return name


def dig(obj, *path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def ip_list(obj, *path):
    v = dig(obj, *path)
    return [x for x in v if isinstance(x, str) and x] if isinstance(v, list) else []


def address_of(inst):
    """destination_variable = public_ip_address: the first public address, else the EIP."""
    public = ip_list(inst, "PublicIpAddress", "IpAddress")
    if public:
        return public[0]
    return dig(inst, "EipAddress", "IpAddress") or ""


def hostname_of(inst):
    return inst["InstanceId"].lower().replace("-", "_")


def groups_of(inst):
    """The default groups of docs/DESIGN.md, "Groups and names" (instance-id group left out: the host is named by its id)."""
    g = {"alicloud", sanitize(inst["RegionId"])}
    if inst.get("ZoneId"):
        g.add(sanitize(inst["ZoneId"]))
    if inst.get("ImageId"):
        g.add(sanitize(inst["ImageId"]))
    if inst.get("InstanceType"):
        g.add(sanitize("type_" + inst["InstanceType"]))
    vpc = dig(inst, "VpcAttributes", "VpcId")
    if vpc:
        g.add(sanitize("vpc_id_" + vpc))
    vsw = dig(inst, "VpcAttributes", "VSwitchId")
    if vsw:
        g.add(sanitize("subnet_" + vsw))
    for sg in ip_list(inst, "SecurityGroupIds", "SecurityGroupId"):
        g.add(sanitize("security_group_" + sg))
    tags = dig(inst, "Tags", "Tag") or []
    if tags:
        for t in tags:
            k, v = t.get("TagKey", ""), t.get("TagValue", "") or ""
            g.add(sanitize("tag_%s_%s" % (k, v)) if v else sanitize("tag_" + k))
    else:
        g.add("tag_none")
    return g


def cmd_expect(fleet_path):
    expect([(None, None, fleet_path)])


def cmd_expect_accounts(*specs):
    """Each spec is ALIAS:ACCOUNT_ID:FLEET: the inventory of `accounts` with one entry per spec
    (docs/DESIGN.md, "Accounts"): every account's hosts, their account hostvars, and the group
    account_<alias> of each."""
    fleets = []
    for spec in specs:
        alias, account_id, path = spec.split(":", 2)
        fleets.append((alias, account_id, path))
    expect(fleets)


def expect(fleets):
    problems = []
    regions, instances = [], []
    for alias, account_id, path in fleets:
        fleet = load_json(path)
        regions += [r["RegionId"] for r in fleet.get("regions", []) if r["RegionId"] not in regions]
        instances += [(alias, account_id, i) for i in fleet.get("instances", [])]
    hosts, groups, seen_addr, all_ids = {}, {}, {}, {}
    region_groups, tag_groups = {}, {}
    for alias, account_id, inst in instances:
        all_ids.setdefault(inst["RegionId"], []).append(inst["InstanceId"])
        if inst.get("Status") != "Running":
            continue
        addr = address_of(inst)
        if not addr:
            problems.append("fleet: running instance %s has no public or EIP address (generated with --loopback?)" % inst["InstanceId"])
            continue
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            ip = None
        if ip is None or not ip.is_loopback or ip.version != 4:
            problems.append("fleet: instance %s has address %r, not a 127.x.y.z loopback address" % (inst["InstanceId"], addr))
            continue
        if addr in seen_addr:
            problems.append("fleet: address %s is shared by %s and %s" % (addr, seen_addr[addr], inst["InstanceId"]))
            continue
        seen_addr[addr] = inst["InstanceId"]
        name = hostname_of(inst)
        if name in hosts:
            problems.append("fleet: host name %s is given twice" % name)
            continue
        hosts[name] = {"address": addr, "id": inst["InstanceId"], "region": inst["RegionId"],
                       "ecs_tags": {t.get("TagKey", ""): t.get("TagValue", "") or "" for t in (dig(inst, "Tags", "Tag") or [])}}
        member_of = groups_of(inst)
        if alias is not None:
            hosts[name]["account_alias"] = alias
            hosts[name]["account_id"] = account_id
            member_of.add(sanitize("account_" + alias))
        for g in member_of:
            groups.setdefault(g, []).append(name)
        region_groups.setdefault(sanitize(inst["RegionId"]), []).append(name)
        for t in dig(inst, "Tags", "Tag") or []:
            if t.get("TagValue"):
                tag_groups.setdefault(sanitize("tag_%s_%s" % (t["TagKey"], t["TagValue"])), []).append(name)
    stopped = sum(1 for _, _, i in instances if i.get("Status") != "Running")
    if not hosts:
        problems.append("fleet: no running instance with an address")
    if not stopped:
        problems.append("fleet: every instance is running; the suite wants some that are not (the default inventory leaves them out)")
    if not tag_groups:
        problems.append("fleet: no tagged instance")
    clash = sorted(set(groups) & set(hosts))
    if clash:
        problems.append("expectation: group names equal to host names: %s" % clash[:5])
    if problems:
        finish(problems)
    # the group the suite pings: tag_role_web when the fleet has it, else the largest tag group
    # that is not the whole inventory
    candidates = sorted((g for g in tag_groups if len(tag_groups[g]) < len(hosts)), key=lambda g: (-len(tag_groups[g]), g))
    tag_target = "tag_role_web" if "tag_role_web" in tag_groups else (candidates[0] if candidates else sorted(tag_groups)[0])
    region_target = sorted(region_groups, key=lambda g: (-len(region_groups[g]), g))[0]
    out = {
        "regions": regions,
        "hosts": hosts,
        "groups": {g: sorted(h) for g, h in sorted(groups.items())},
        "region_groups": sorted(region_groups),
        "tag_groups": sorted(tag_groups),
        "tag_target": tag_target,
        "region_target": region_target,
        "instance_ids": {r: sorted(ids) for r, ids in all_ids.items()},
        "not_running": stopped,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    print()
    problem("fleet: %d instances in %d regions, %d running hosts expected, %d not running, %d groups; pinging %s (%d) and %s (%d)"
            % (len(instances), len(regions), len(hosts), stopped, len(groups), tag_target,
               len(out["groups"][tag_target]), region_target, len(out["groups"][region_target])))


# --------------------------------------------------------------------------------------------
# Checks of inventory output

VALID_GROUP = re.compile(r"^[^\d\W]\w*$")  # Ansible's own rule: no `^[\d\W]|[^\w]`


def compare_sets(what, got, want, problems):
    got, want = set(got), set(want)
    if got != want:
        missing, extra = sorted(want - got), sorted(got - want)
        problems.append("%s: %d expected, %d found; missing %s; unexpected %s"
                        % (what, len(want), len(got), missing[:8], extra[:8]))


def check_hostvars(exp, hostvars, problems, reserved=None):
    for name, want in exp["hosts"].items():
        hv = hostvars.get(name)
        if not isinstance(hv, dict):
            continue
        if hv.get("ansible_host") != want["address"]:
            problems.append("host %s: ansible_host is %r, expected %r" % (name, hv.get("ansible_host"), want["address"]))
        if hv.get("id") != want["id"]:
            problems.append("host %s: hostvar id is %r, expected %r" % (name, hv.get("id"), want["id"]))
        if hv.get("region") != want["region"]:
            problems.append("host %s: hostvar region is %r, expected %r" % (name, hv.get("region"), want["region"]))
        if hv.get("ecs_tags") != want["ecs_tags"]:
            problems.append("host %s: ecs_tags is %r, expected %r" % (name, hv.get("ecs_tags"), want["ecs_tags"]))
        for key in ("account_alias", "account_id"):
            if key in want and hv.get(key) != want[key]:
                problems.append("host %s: hostvar %s is %r, expected %r" % (name, key, hv.get(key), want[key]))
        if reserved:
            bad = sorted(set(hv) & reserved)
            if bad:
                problems.append("host %s: hostvars with names Ansible reserves: %s" % (name, bad))


def ansible_reserved_names():
    try:
        from ansible.vars.reserved import get_reserved_names
    except ImportError:
        return None
    return set(get_reserved_names())


def cmd_check_raw(exp_path, out_path):
    """The binary's own --list output: the script-inventory shape of docs/DESIGN.md, "Command line", the expected hosts and groups."""
    exp = load_json(exp_path)
    problems = []
    try:
        with open(out_path, encoding="utf-8") as f:
            text = f.read()
        inv = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        finish(["stdout is not one UTF-8 JSON document: %s" % e])
    if not isinstance(inv, dict):
        finish(["stdout is not a JSON object"])
    meta = inv.get("_meta")
    hostvars = meta.get("hostvars") if isinstance(meta, dict) else None
    if not isinstance(hostvars, dict):
        finish(["no _meta.hostvars object"])
    compare_sets("_meta.hostvars hosts", hostvars, exp["hosts"], problems)
    groups = {k: v for k, v in inv.items() if k != "_meta"}
    for g, body in sorted(groups.items()):
        if not isinstance(body, dict) or not isinstance(body.get("hosts"), list):
            problems.append("group %s is %s, not an object with a hosts list" % (g, json.dumps(body)[:60]))
            continue
        if not VALID_GROUP.match(g):
            problems.append("group name %r is not a valid Ansible group name" % g)
        if body["hosts"] != sorted(body["hosts"]):
            problems.append("group %s: hosts not sorted" % g)
        unknown = set(body["hosts"]) - set(hostvars)
        if unknown:
            problems.append("group %s lists hosts absent from _meta.hostvars: %s" % (g, sorted(unknown)[:5]))
    if list(inv) != sorted(inv):
        problems.append("top-level keys are not sorted")
    compare_sets("groups", groups, exp["groups"], problems)
    for g, want in exp["groups"].items():
        body = groups.get(g)
        if isinstance(body, dict) and isinstance(body.get("hosts"), list):
            compare_sets("group %s" % g, body["hosts"], want, problems)
    clash = sorted(set(groups) & set(hostvars))
    if clash:
        problems.append("groups named like hosts: %s" % clash[:5])
    check_hostvars(exp, hostvars, problems)
    finish(problems)


def cmd_check_host(exp_path, list_path, out_path, name):
    inv = load_json(list_path)
    try:
        got = load_json(out_path)
    except ValueError as e:
        finish(["--host %s: stdout is not JSON: %s" % (name, e)])
    want = inv["_meta"]["hostvars"].get(name)
    if want is None:
        finish(["--host: %s is not in the --list output" % name])
    if got != want:
        diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
        finish(["--host %s differs from _meta.hostvars[%s] in %s" % (name, name, diff[:10])])
    finish([])


def cmd_check_list(exp_path, out_path):
    """ansible-inventory --list: Ansible's view of the inventory."""
    exp = load_json(exp_path)
    problems = []
    try:
        inv = load_json(out_path)
    except ValueError as e:
        finish(["ansible-inventory --list printed no JSON: %s" % e])
    hostvars = dig(inv, "_meta", "hostvars") or {}
    members = {}
    for g, body in inv.items():
        if g == "_meta" or not isinstance(body, dict):
            continue
        members[g] = body.get("hosts", [])
    all_hosts = set()
    for g, hs in members.items():
        all_hosts.update(hs)
    all_hosts.update(hostvars)
    compare_sets("hosts", all_hosts, exp["hosts"], problems)
    if members.get("ungrouped"):
        problems.append("hosts in ungrouped: %s" % sorted(members["ungrouped"])[:5])
    children = set(dig(inv, "all", "children") or [])
    groups = {g for g in members if g not in ("all", "ungrouped")} | (children - {"ungrouped"})
    compare_sets("groups", groups, exp["groups"], problems)
    for g, want in exp["groups"].items():
        if g in members:
            compare_sets("group %s" % g, members[g], want, problems)
    for g in groups:
        if not VALID_GROUP.match(g):
            problems.append("group name %r is not a valid Ansible group name" % g)
    check_hostvars(exp, hostvars, problems, ansible_reserved_names())
    finish(problems)


def cmd_check_graph(exp_path, out_path):
    exp = load_json(exp_path)
    problems = []
    with open(out_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not lines or lines[0].strip() != "@all:":
        problems.append("--graph does not start with @all:")
    # the hosts listed directly under each group (one level deeper than the group line)
    members, stack = {}, []  # stack of (indent, group)
    groups = set()
    for line in lines:
        stripped = line.lstrip("| -")
        indent = len(line) - len(stripped)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stripped.startswith("@"):
            group = stripped[1:].rstrip(":")
            groups.add(group)
            members.setdefault(group, set())
            stack.append((indent, group))
        elif stack:
            members[stack[-1][1]].add(stripped)
    under = members.get("alicloud", set())
    if "alicloud" not in groups:
        problems.append("--graph shows no @alicloud group")
    compare_sets("hosts under @alicloud", under, exp["hosts"], problems)
    missing = sorted(set(exp["groups"]) - groups)
    if missing:
        problems.append("--graph misses groups %s" % missing[:8])
    for g, want in exp["groups"].items():
        if g.startswith("account_") and g in members:
            compare_sets("hosts under @%s" % g, members[g], want, problems)
    finish(problems)


HEADER = re.compile(r"^(\S+) \| (SUCCESS|CHANGED|FAILED!|UNREACHABLE!|SKIPPED)\b(.*)$")


def parse_adhoc(out_path):
    """`ansible` ad-hoc output of the default (minimal) callback: a `HOST | STATUS ...` line, then
    the result (JSON, or a command's output) up to the next such line."""
    results, current = {}, None
    with open(out_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = HEADER.match(line.rstrip("\n"))
            if m:
                current = [m.group(2), m.group(3)]
                results.setdefault(m.group(1), []).append(current)
            elif current is not None:
                current[1] += "\n" + line.rstrip("\n")
    return results


def cmd_check_adhoc(exp_path, out_path, group):
    exp = load_json(exp_path)
    want = exp["groups"][group] if group != "all" else list(exp["hosts"])
    results = parse_adhoc(out_path)
    problems = []
    ok = set()
    for host, rs in sorted(results.items()):
        if len(rs) != 1:
            problems.append("%s reported %d times" % (host, len(rs)))
        status, rest = rs[0]
        if status == "SUCCESS" and re.search(r'"ping":\s*"pong"', rest):
            ok.add(host)
        else:
            problems.append("%s: %s%s" % (host, status, rest[:200]))
    compare_sets("hosts reached by ping in %s" % group, results, want, problems)
    if len(ok) != len(want):
        problems.append("%d of %d hosts answered pong" % (len(ok), len(want)))
    finish(problems)


def cmd_check_ssh_connection(exp_path, out_path, port):
    """Each host answered on its own address: the server side of $SSH_CONNECTION."""
    exp = load_json(exp_path)
    results = parse_adhoc(out_path)
    problems = []
    compare_sets("hosts reached by raw", results, exp["hosts"], problems)
    for host, rs in sorted(results.items()):
        status, rest = rs[0]
        m = re.search(r"^(\S+) (\d+) (\S+) (\d+)\s*$", rest, re.M)
        if status not in ("SUCCESS", "CHANGED") or not m:
            problems.append("%s: %s%s" % (host, status, rest[:200]))
            continue
        want = exp["hosts"].get(host, {}).get("address")
        if (m.group(3), m.group(4)) != (want, port):
            problems.append("%s: reached %s port %s, expected %s port %s" % (host, m.group(3), m.group(4), want, port))
    finish(problems)


def cmd_check_concurrent(exp_path, directory):
    """Every reader of the concurrency test: exit 0, one complete inventory, no warning."""
    exp = load_json(exp_path)
    n = len(exp["hosts"])
    problems, runs = [], 0
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".rc"):
            continue
        base = os.path.join(directory, entry[:-3])
        runs += 1
        with open(base + ".rc") as f:
            rc = f.read().strip()
        with open(base + ".err", encoding="utf-8", errors="replace") as f:
            err = f.read()
        tag = os.path.basename(base)
        if rc != "0":
            problems.append("%s: exit %s: %s" % (tag, rc, err.strip()[:300]))
            continue
        noise = [l for l in err.splitlines() if NOISE.search(l)] if tag.startswith("ansible") else err.strip().splitlines()
        if noise:
            problems.append("%s: printed on stderr: %s" % (tag, noise[0][:300]))
        try:
            inv = load_json(base + ".out")
        except ValueError as e:
            problems.append("%s: output is not JSON (partial inventory?): %s" % (tag, e))
            continue
        hv = dig(inv, "_meta", "hostvars")
        got = len(hv) if isinstance(hv, dict) else -1
        alicloud = dig(inv, "alicloud", "hosts") or []
        if got != n or len(alicloud) != n:
            problems.append("%s: saw %d hosts (%d in alicloud), expected %d" % (tag, got, len(alicloud), n))
    if runs == 0:
        problems.append("no reader ran")
    print(runs)
    finish(problems)


NOISE = re.compile(r"^\[(WARNING|ERROR|DEPRECATION WARNING)\]|^ERROR!|^\[DEPRECATION")


def cmd_check_cache(directory, secret):
    problems = []
    st = os.stat(directory)
    if stat.S_IMODE(st.st_mode) & 0o077:
        problems.append("cache directory %s has mode %o, expected 0700" % (directory, stat.S_IMODE(st.st_mode)))
    files = 0
    for root, dirs, names in os.walk(directory):
        for d in dirs:
            mode = stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode)
            if mode & 0o077:
                problems.append("cache directory %s has mode %o, expected 0700" % (os.path.join(root, d), mode))
        for n in names:
            p = os.path.join(root, n)
            files += 1
            mode = stat.S_IMODE(os.stat(p).st_mode)
            if mode & 0o077:
                problems.append("cache file %s has mode %o, expected 0600" % (p, mode))
            with open(p, "rb") as f:
                if secret.encode() in f.read():
                    problems.append("cache file %s contains the secret key" % p)
    if not files:
        problems.append("no cache file under %s" % directory)
    finish(problems)


# --------------------------------------------------------------------------------------------
# Constructed groups and variables against Ansible's own constructed plugin

# Entries every host passes: compose with native types, conditional groups, and every
# keyed_groups option (key as string, list and mapping; prefix, separator, default_value,
# trailing_separator, parent_group, a templated parent_group, an empty prefix).
ENTRIES = {
    "compose": {
        "cores": "cpu",
        "mem_gb": "memory / 1024",
        "is_big": "cpu >= 4",
        "tag_keys": "ecs_tags.keys() | list | sort",
        "labels": "{'zone': zone_id, 'type': instance_type, 'cpu': cpu}",
        "env": "ecs_tags.env | default('none')",
        "short_type": "instance_type | regex_replace('^ecs\\.', '')",
        "n_groups": "group_names | length",
        "sg_first": "security_group_ids | first",
        "nothing": "none",
    },
    "groups": {
        "big": "cpu >= 4",
        "web": "ecs_tags.role | default('') == 'web'",
        "cn_running": "region_id.startswith('cn-') and status == 'Running'",
        "everyone": True,
    },
    "keyed_groups": [
        {"key": "ecs_tags", "prefix": "tag2"},
        {"key": "zone_id", "prefix": "zone", "parent_group": "zones_all"},
        {"key": "security_group_ids", "prefix": "sg", "separator": "__"},
        {"key": "ecs_tags", "prefix": "tagd", "default_value": "empty"},
        {"key": "ecs_tags", "prefix": "tagt", "trailing_separator": False},
        {"key": "ecs_tags.role | default('none')", "prefix": "role",
         "parent_group": "{{ region_id }}_roles"},
        {"key": "status | lower", "prefix": ""},
        {"key": "instance_type", "prefix": "type", "separator": ""},
        {"key": "group_names | select('match', '^tag_role') | list", "prefix": "gn"},
    ],
}
# Entries that fail for the hosts without the tag: skipped when not strict.
LENIENT = {
    "compose": {"role_upper": "ecs_tags.role | upper"},
    "groups": {"prod": "ecs_tags.env == 'prod'"},
    "keyed_groups": [{"key": "ecs_tags.role", "prefix": "only_role"}],
}
HOSTVARS = ["instance_id", "instance_type", "private_ip_address", "ecs_tags", "region*"]
# Every supported filter and test of docs/DESIGN.md "Filters and tests" over each host's data,
# as composed variables (strict off: an entry that fails must fail on both sides, and the
# check wants each set on some host). The set filters' order is Python's set order, which
# for strings changes from run to run, hence their `| sort`. `~ ''` makes the HTML filters'
# Markup a str, and `map('list')` groupby's tuples lists, which Ansible would otherwise store
# with a warning.
FILTERS = {"compose": {
    "f_to_json": "{'id': instance_id, 'tags': ecs_tags, 'cpu': cpu, 'gb': memory / 1024} | to_json",
    "f_to_json_kw": "ecs_tags | to_json(sort_keys=true, indent=2)",
    "f_to_nice_json": "{'n': instance_name, 'sg': security_group_ids, 'x': none, 'd': description} | to_nice_json",
    "f_from_json": "('{\"a\": [1, 2.5, null], \"id\": \"' ~ instance_id ~ '\"}') | from_json",
    "f_flatten": "[security_group_ids, [[cpu], none, 'null'], [[[memory]]]] | flatten",
    "f_flatten_1": "[security_group_ids, [[cpu, [memory]]]] | flatten(levels=1)",
    "f_hash": "instance_id | hash('sha256')",
    "f_hash_md5": "instance_name | hash('md5')",
    "f_sha1": "instance_id | sha1",
    "f_md5": "description | md5",
    "f_checksum": "cpu | checksum",
    "f_b64encode": "description | b64encode",
    "f_b64decode": "(instance_name | b64encode) | b64decode",
    "f_to_uuid": "instance_id | to_uuid",
    "f_basename": "image_id | basename",
    "f_dirname": "('/images/' ~ region_id ~ '/' ~ image_id) | dirname",
    "f_splitext": "image_id | splitext",
    "f_normpath": "('/a/./b/../' ~ region_id ~ '//x') | normpath",
    "f_path_join": "['/srv', region_id, instance_name] | path_join",
    "f_commonpath": "['/srv/' ~ region_id ~ '/a', '/srv/' ~ region_id ~ '/b'] | commonpath",
    "f_quote": "description | quote",
    "f_regex_escape": "instance_type | regex_escape",
    "f_mandatory": "instance_id | mandatory",
    "f_type_debug": "[cpu | type_debug, ecs_tags | type_debug, instance_name | type_debug]",
    "f_extract": "['env', 'role'] | map('extract', ecs_tags) | list",
    "f_subelements": "[{'id': instance_id, 'sg': security_group_ids}] | subelements('sg')",
    "f_zip": "security_group_ids | zip([cpu, memory]) | list",
    "f_zip_longest": "[cpu] | zip_longest(security_group_ids, fillvalue='-') | list",
    "f_union": "ecs_tags.keys() | list | union(['env', 'zz']) | sort",
    "f_intersect": "ecs_tags.keys() | list | intersect(['env', 'role']) | sort",
    "f_difference": "ecs_tags.keys() | list | difference(['env']) | sort",
    "f_symmetric_difference": "ecs_tags.keys() | list | symmetric_difference(['env', 'zz']) | sort",
    "f_product": "[cpu, memory] | product(['a', 'b']) | list",
    "f_permutations": "[cpu, memory, 1] | permutations(2) | list",
    "f_combinations": "security_group_ids | combinations(1) | list",
    "f_log": "memory | log(2)",
    "f_pow": "cpu | pow(2)",
    "f_root": "memory | root",
    "f_human_readable": "(memory * 1048576) | human_readable",
    "f_human_to_bytes": "(memory ~ 'M') | human_to_bytes",
    "f_rekey_on_member": "[{'k': instance_id, 'c': cpu}] | rekey_on_member('k')",
    "f_urlsplit": "('https://' ~ instance_name ~ '.example.com:8443/p?q=1#f') | urlsplit",
    "f_urldecode": "('a+b%2F' ~ cpu) | urldecode",
    "f_abs": "(0 - cpu) | abs",
    "f_capitalize": "description | capitalize",
    "f_reverse": "security_group_ids | reverse | list",
    "f_round": "(memory / 3) | round(2)",
    "f_sum": "[cpu, memory] | sum",
    "f_min": "[cpu, memory] | min",
    "f_max": "ecs_tags.values() | list | max",
    "f_dictsort": "ecs_tags | dictsort",
    "f_items": "ecs_tags | items | list",
    "f_batch": "security_group_ids | batch(2, 'x') | list",
    "f_slice": "[cpu, memory, 1] | slice(2) | list",
    "f_plain": "[instance_name | upper | lower | trim, instance_type | replace('.', '-'), instance_id | string, ecs_tags | length, ecs_tags | count, ecs_tags | list | first, ecs_tags | list | last, security_group_ids | join(','), instance_type | split('.'), cpu | float, '08' | int, 'yes' | bool]",
    "f_regex": "[instance_type | regex_replace('^ecs\\.', ''), instance_type | regex_findall('[a-z]+'), instance_type | regex_search('ecs\\\\.(\\\\w+)', '\\\\1')]",
    "f_sort_unique": "(security_group_ids + security_group_ids) | unique | sort",
    "f_dict2items": "ecs_tags | dict2items | items2dict",
    "f_combine": "ecs_tags | combine({'cpu': cpu})",
    "f_default_ternary": "[ecs_tags.nope | default('d'), ecs_tags.nope | d('d2'), (cpu > 2) | ternary('big', 'small')]",
    "f_higher": "[security_group_ids | map('upper') | list, security_group_ids | select('match', 'sg') | list, security_group_ids | reject('search', 'x') | list, network_interfaces | selectattr('type', 'defined') | list | length, network_interfaces | rejectattr('type', 'undefined') | list | length]",
    "f_jinja_text": "[description | title, description | wordcount, instance_type | center(21), description | truncate(9), (description ~ '\\n' ~ instance_name) | indent(2), description | urlencode, ecs_tags | urlencode]",
    "f_jinja_misc": "[memory | filesizeformat, (memory * 1048576) | filesizeformat(true), ecs_tags | tojson ~ '', ('<' ~ description ~ '>') | escape ~ '', ('&' ~ cpu) | e ~ '', instance_id | forceescape ~ '', instance_name | safe ~ '']",
    "f_format": "['%s-%03d %.2f %x %5.1e %g %r' | format(instance_name, cpu, memory / 3, memory, memory * 1000, memory / 7, ecs_tags), '%(id)s' | format(id=instance_id)]",
    "f_groupby": "network_interfaces | groupby('type') | map('list') | list",
    "t_operators": "[[cpu, memory, 2] | select('==', 2) | list, [cpu, memory] | select('!=', 2) | list, [cpu, memory] | select('<', 4) | list, [cpu, memory] | select('<=', 4) | list, [cpu, memory] | select('>', 4) | list, [cpu, memory] | select('>=', 4) | list]",
    "t_truthy": "[cpu is truthy, description is falsy, 'no' is truthy(convert_bool=true)]",
    "t_sets": "[['env'] is subset(ecs_tags.keys() | list), ecs_tags.keys() | list is superset(['env']), ['env'] is issubset(['env']), ['a'] is issuperset([]), security_group_ids is contains(security_group_ids[0])]",
    "t_version": "[('1.' ~ cpu) is version('1.4', '>='), ('1.' ~ cpu ~ '.0') is version_compare('1.2.0', 'lt', strict=true), ('1.0.' ~ cpu ~ '-rc.1') is version('1.0.' ~ cpu, '<', version_type='semver')]",
    "t_any_all": "[[cpu, 0] is any, [cpu, 0] is all]",
    "t_nan": "[memory is nan, (memory / 1) is isnan]",
    "t_uri": "[('https://' ~ instance_name) is uri, ('https://' ~ instance_name) is url, ('urn:x:' ~ instance_id) is urn, image_id is url]",
    "t_abs": "[('/' ~ image_id) is abs, image_id is is_abs]",
    "t_jinja": "[cpu is odd, cpu is even, cpu is divisibleby(4), cpu is integer, cpu is float, cpu is number, description is string, ecs_tags is mapping, security_group_ids is sequence, security_group_ids is iterable, none is none, true is boolean, true is true, false is false, instance_type is lower, instance_type is upper, cpu is eq(2), cpu is equalto(2), cpu is ne(2), cpu is lt(4), cpu is lessthan(4), cpu is le(4), cpu is gt(2), cpu is greaterthan(2), cpu is ge(2), cpu is sameas(cpu), 'env' is in(ecs_tags), instance_type is match('ecs'), instance_type is search('\\.'), instance_type is regex('c6'), ecs_tags.nope is undefined, cpu is defined]",
}, "groups": {}, "keyed_groups": []}

# alicloud.ini's defaults asked for by name in a YAML (whose own are the alicloud_ecs plugin's),
# so that ours builds on the same plain inventory Ansible's constructed runs over.
INI_DEFAULTS = dict(
    all_instances=False, destination_variable=["public_ip_address"], hostname_variable="instance_id",
    **{"group_by_" + g: True for g in (
        "instance_id", "region", "availability_zone", "image_id", "instance_type", "vpc_id",
        "vswitch_id", "security_group", "tag_keys", "tag_none")})


def yaml_text(doc):
    """A YAML file: top-level block keys, values in flow style (JSON is YAML)."""
    lines = []
    for k, v in doc.items():
        if isinstance(v, (dict, list)) and not v:
            lines.append("%s: %s" % (k, json.dumps(v)))
        elif isinstance(v, dict):
            lines.append("%s:" % k)
            lines += ["  %s: %s" % (json.dumps(kk), json.dumps(vv, ensure_ascii=False)) for kk, vv in v.items()]
        elif isinstance(v, list):
            lines.append("%s:" % k)
            lines += ["  - %s" % json.dumps(i, ensure_ascii=False) for i in v]
        else:
            lines.append("%s: %s" % (k, json.dumps(v, ensure_ascii=False)))
    return "\n".join(lines) + "\n"


def cmd_constructed_configs(directory, cache):
    """NAME.constructed.yml for Ansible, NAME.alicloud.yml for us; NAME: lenient (strict off,
    with entries that fail for some hosts), strict (strict on, leading_separator off), and
    strict-fail (strict on, an entry that fails for some hosts)."""
    def merged(*parts):
        out = {"compose": {}, "groups": {}, "keyed_groups": []}
        for p in parts:
            out["compose"].update(p["compose"])
            out["groups"].update(p["groups"])
            out["keyed_groups"] += p["keyed_groups"]
        return out
    configs = {
        "lenient": dict(strict=False, **merged(ENTRIES, LENIENT)),
        "strict": dict(strict=True, leading_separator=False, **merged(ENTRIES)),
        "strict-fail": dict(strict=True, compose=LENIENT["compose"]),
        "filters": dict(strict=False, **FILTERS),
    }
    for name, entries in configs.items():
        with open(os.path.join(directory, name + ".constructed.yml"), "w", encoding="utf-8") as f:
            f.write(yaml_text(dict(plugin="ansible.builtin.constructed", **entries)))
        ours = dict(plugin="alibaba.alicloud.alicloud_ecs", regions=[], cache_connection=cache,
                    hostvars=HOSTVARS, **INI_DEFAULTS, **entries)
        with open(os.path.join(directory, name + ".alicloud.yml"), "w", encoding="utf-8") as f:
            f.write(yaml_text(ours))
        with open(os.path.join(directory, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(entries, f)


def unwrap(v):
    """Ansible 2.19 marks untrusted strings {"__ansible_unsafe": ...}: the value inside."""
    if isinstance(v, dict):
        if set(v) == {"__ansible_unsafe"}:
            return unwrap(v["__ansible_unsafe"])
        return {unwrap(k): unwrap(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unwrap(x) for x in v]
    return v


def cmd_check_constructed(ansible_path, ours_path, config_path):
    """Both are ansible-inventory --list: of our plain output under Ansible's constructed
    plugin, and of our own constructed output. Every group (constructed or not, `all`
    included) has the same hosts and children; every composed variable has the same value on
    every host, or is absent on both; every hostvar we print equals Ansible's."""
    a, b = unwrap(load_json(ansible_path)), unwrap(load_json(ours_path))
    config = load_json(config_path)
    problems = []
    ga = {g: v for g, v in a.items() if g != "_meta"}
    gb = {g: v for g, v in b.items() if g != "_meta"}
    for g in sorted(set(ga) | set(gb)):
        if g not in gb or g not in ga:
            problems.append("group %s is only in %s" % (g, "Ansible's output" if g in ga else "ours"))
            continue
        for k in ("hosts", "children"):
            x, y = set(ga[g].get(k, [])), set(gb[g].get(k, []))
            if x != y:
                problems.append("group %s %s: Ansible only %s, ours only %s" % (g, k, sorted(x - y)[:5], sorted(y - x)[:5]))
    ha, hb = a["_meta"]["hostvars"], b["_meta"]["hostvars"]
    compare_sets("hosts", hb, ha, problems)
    composed = list(config.get("compose", {}))
    seen = {k: 0 for k in composed}
    for h in sorted(set(ha) & set(hb)):
        x, y = ha[h], hb[h]
        for k in composed:
            if (k in x) != (k in y) or x.get(k) != y.get(k) or type(x.get(k)) is not type(y.get(k)):
                problems.append("%s.%s: Ansible %r, ours %r" % (h, k, x.get(k, "<unset>"), y.get(k, "<unset>")))
            seen[k] += k in y
        for k in y:
            if k not in composed and x.get(k) != y[k]:
                problems.append("%s.%s: Ansible %r, ours %r" % (h, k, x.get(k, "<unset>"), y[k]))
    for k, n in seen.items():
        if not n:
            problems.append("composed variable %s is set on no host: the check proves nothing" % k)
    if not config.get("keyed_groups"):
        finish(problems)  # the filters configuration: composed variables only
        return
    # Native types, as Ansible's evaluate_expression returns them.
    types = {"cores": int, "mem_gb": float, "is_big": bool, "tag_keys": list, "labels": dict,
             "nothing": type(None)}
    for k, t in types.items():
        if k in composed and not any(isinstance(v.get(k), t) and k in v for v in hb.values()):
            problems.append("composed %s is never a %s" % (k, t.__name__))
    # Each keyed_groups option left its mark.
    groups = set(gb)
    marks = {
        "mapping key": lambda g: g.startswith("tag2_"),
        "list key and separator": lambda g: g.startswith("sg__"),
        "default_value": lambda g: g.startswith("tagd_") and g.endswith("_empty"),
        "trailing_separator false": lambda g: g == "tagt_managed",
        "empty prefix": lambda g: g in ("_running", "running"),
        "empty separator": lambda g: g.startswith("typeecs_"),
    }
    for what, test in marks.items():
        if not any(test(g) for g in groups):
            problems.append("no group shows the keyed_groups option: %s" % what)
    if not gb.get("zones_all", {}).get("children"):
        problems.append("parent_group zones_all has no children")
    if not any(g.endswith("_roles") and gb[g].get("children") for g in groups):
        problems.append("no templated parent_group ({{ region_id }}_roles) with children")
    finish(problems)


def cmd_check_strict_failure(ours_err, ansible_err, lenient_list):
    """With strict on and an entry that fails for some hosts, both refuse: ours with one line
    naming the entry and a host it fails for, Ansible naming the same entry."""
    problems = []
    with open(ours_err, encoding="utf-8") as f:
        ours = f.read().strip().splitlines()
    with open(ansible_err, encoding="utf-8") as f:
        theirs = f.read()
    m = re.match(r"^alicloud_inventory: error: constructed compose\.(\w+) failed for host (\S+): ", ours[0] if ours else "")
    if len(ours) != 1 or not m:
        problems.append("ours: expected one line naming the entry and the host, got %r" % ours[:3])
    else:
        var, host = m.group(1), m.group(2)
        if "Could not set %s for host " % var not in theirs:
            problems.append("Ansible did not fail on %s: %s" % (var, theirs.strip()[:300]))
        hv = unwrap(load_json(lenient_list))["_meta"]["hostvars"]
        if host not in hv or var in hv[host]:
            problems.append("host %s is not one the entry %s fails for" % (host, var))
    finish(problems)


# --------------------------------------------------------------------------------------------
# The official SDK against the simulator


def cmd_sdk(exp_path, endpoint, ak, secret):
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
    from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest

    exp = load_json(exp_path)
    problems = []

    def call(secret_key, request, region):
        client = AcsClient(ak, secret_key, region, auto_retry=False, timeout=15, connect_timeout=5)
        request.set_endpoint(endpoint)
        request.set_protocol_type("http")
        return json.loads(client.do_action_with_exception(request))

    for method in ("GET", "POST"):
        # DescribeRegions
        req = DescribeRegionsRequest()
        req.set_method(method)
        try:
            regions = [r["RegionId"] for r in call(secret, req, exp["regions"][0])["Regions"]["Region"]]
            compare_sets("%s DescribeRegions" % method, regions, exp["regions"], problems)
        except (ClientException, ServerException, KeyError, ValueError) as e:
            problems.append("%s DescribeRegions with the right secret failed: %s" % (method, e))
        # DescribeInstances, every region, every page
        for region in exp["regions"]:
            ids, page, total = [], 1, None
            try:
                while True:
                    req = DescribeInstancesRequest()
                    req.set_method(method)
                    req.set_PageSize(10)
                    req.set_PageNumber(page)
                    body = call(secret, req, region)
                    total = body["TotalCount"]
                    got = body["Instances"]["Instance"]
                    ids += [i["InstanceId"] for i in got]
                    if not got or len(ids) >= total or page > 100:
                        break
                    page += 1
            except (ClientException, ServerException, KeyError, ValueError) as e:
                problems.append("%s DescribeInstances %s with the right secret failed: %s" % (method, region, e))
                continue
            want = exp["instance_ids"].get(region, [])
            if total != len(want):
                problems.append("%s DescribeInstances %s: TotalCount %s, the fleet has %d" % (method, region, total, len(want)))
            if sorted(ids) != want:
                problems.append("%s DescribeInstances %s: %d ids over %d pages, not the fleet's %d"
                                % (method, region, len(ids), page, len(want)))
        # the wrong secret. The real service answers HTTP 400 SignatureDoesNotMatch with the message
        # "... server string to sign is:<its string to sign>"; when that string equals the SDK's own,
        # the SDK reports InvalidAccessKeySecret instead (which also proves both signed the same string).
        req = DescribeInstancesRequest()
        req.set_method(method)
        try:
            call(secret + "x", req, exp["regions"][0])
            problems.append("%s DescribeInstances with a wrong secret succeeded" % method)
        except ServerException as e:
            if e.get_error_code() not in ("SignatureDoesNotMatch", "InvalidAccessKeySecret"):
                problems.append("%s with a wrong secret: %s %s, expected SignatureDoesNotMatch"
                                % (method, e.get_error_code(), e.get_error_msg()))
            elif not 400 <= (e.get_http_status() or 0) < 500:
                problems.append("%s with a wrong secret: HTTP %s, expected 4xx" % (method, e.get_http_status()))
            else:
                print("%s with a wrong secret: HTTP %s %s" % (method, e.get_http_status(), e.get_error_code()))
        except ClientException as e:
            problems.append("%s with a wrong secret: client error %s" % (method, e))
        except Exception as e:  # e.g. the SDK failing to parse the error message
            problems.append("%s with a wrong secret: the SDK failed on the answer: %r" % (method, e))
    finish(problems)


# Cloud data as code: the fields an instance's owner (or anyone allowed to tag it) controls, each
# holding a lookup that would create its own marker file if Ansible ever rendered it.
HOSTILE_FIELDS = ("tag", "name", "description", "nested")


def hostile_payload(marker_dir, field):
    return "{{ lookup('pipe', 'touch %s/MARKER-%s') }}" % (marker_dir, field)


def cmd_hostile_fleet(fleet_path, out_path, marker_dir):
    """Writes the fleet with the payloads in its first running instance with an address; prints
    that instance's host name."""
    fleet = load_json(fleet_path)
    inst = next(i for i in fleet["instances"] if i.get("Status") == "Running" and address_of(i))
    inst.setdefault("Tags", {}).setdefault("Tag", []).append(
        {"TagKey": "pwn", "TagValue": hostile_payload(marker_dir, "tag")})
    inst["InstanceName"] = hostile_payload(marker_dir, "name")
    inst["Description"] = hostile_payload(marker_dir, "description")
    inst.setdefault("VpcAttributes", {})["NatIpAddress"] = hostile_payload(marker_dir, "nested")
    with open(out_path, "w") as f:
        json.dump(fleet, f)
    print(hostname_of(inst))


def cmd_check_hostile(marker_dir, debug_path, rendered_path):
    """No marker file exists, the debug task printed every payload as text, and the template
    task wrote every payload as text (the compose copy of the tag too)."""
    problems = []
    made = sorted(n for n in os.listdir(marker_dir) if n.startswith("MARKER-"))
    if made:
        problems.append("Ansible ran the cloud's template text: %s exist" % ", ".join(made))
    with open(debug_path) as f:
        debug = f.read()
    with open(rendered_path) as f:
        rendered = f.read().splitlines()
    want = [hostile_payload(marker_dir, field) for field in HOSTILE_FIELDS]
    for text in want:
        if text not in debug:
            problems.append("the debug task did not print %r as it is" % text)
    if rendered != want + [want[0]]:
        problems.append("the template task wrote %r, expected %r" % (rendered, want + [want[0]]))
    finish(problems)


def main(argv):
    cmds = {
        "expect": cmd_expect,
        "expect-accounts": cmd_expect_accounts,
        "check-raw": cmd_check_raw,
        "check-host": cmd_check_host,
        "check-list": cmd_check_list,
        "check-graph": cmd_check_graph,
        "check-adhoc": cmd_check_adhoc,
        "check-ssh-connection": cmd_check_ssh_connection,
        "check-concurrent": cmd_check_concurrent,
        "check-cache": cmd_check_cache,
        "constructed-configs": cmd_constructed_configs,
        "check-constructed": cmd_check_constructed,
        "check-strict-failure": cmd_check_strict_failure,
        "sdk": cmd_sdk,
        "hostile-fleet": cmd_hostile_fleet,
        "check-hostile": cmd_check_hostile,
    }
    if len(argv) < 2 or argv[1] not in cmds:
        problem(__doc__)
        return 2
    cmds[argv[1]](*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
