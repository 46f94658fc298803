#!/usr/bin/env python3
"""Checks for tests/e2e/plugin.sh: what Ansible made through the alicloud_ecs plugin against
what the binary printed. Each check exits 0 when it holds, else prints why on stderr and exits 1.

  stats URL                      the simulator's API request count (GET /_sim/stats)
  export BINARY_LIST EXPORT      ansible-inventory --list --export equals the binary's --list:
                                 the same hosts, groups, children and hostvars (Ansible writes
                                 every untrusted string as {"__ansible_unsafe": ...})
"""

import json
import sys
import urllib.request


def unwrap(v):
    # ansible-inventory --list writes an untrusted string as {"__ansible_unsafe": "..."}
    if isinstance(v, dict):
        if len(v) == 1 and "__ansible_unsafe" in v:
            return v["__ansible_unsafe"]
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unwrap(x) for x in v]
    return v


def stats(url):
    with urllib.request.urlopen(url.rstrip("/") + "/_sim/stats", timeout=10) as r:
        print(json.load(r)["requests"])


def export(binary_list, exported):
    ours = json.load(open(binary_list))
    theirs = json.load(open(exported))
    problems = []
    hv_ours = ours.get("_meta", {}).get("hostvars", {})
    hv_theirs = theirs.get("_meta", {}).get("hostvars", {})
    if set(hv_ours) != set(hv_theirs):
        problems.append(f"hosts differ: {sorted(set(hv_ours) ^ set(hv_theirs))[:5]}")
    wrapped = 0
    for host, hv in hv_ours.items():
        got = hv_theirs.get(host)
        if got is None:
            continue
        wrapped += json.dumps(got).count("__ansible_unsafe")
        if unwrap(got) != hv:
            keys = sorted(k for k in set(hv) | set(got) if hv.get(k) != unwrap(got.get(k)))
            problems.append(f"{host}: hostvars differ in {keys[:5]}")
            break
    for group, body in ours.items():
        if group == "_meta":
            continue
        got = theirs.get(group)
        if got is None:
            problems.append(f"group {group} missing")
            continue
        if sorted(body.get("hosts", [])) != sorted(got.get("hosts", [])):
            problems.append(f"group {group}: hosts differ")
        if sorted(body.get("children", [])) != sorted(got.get("children", [])):
            problems.append(f"group {group}: children differ")
    if wrapped == 0 and hv_ours:
        problems.append("no hostvar string is marked untrusted in the export")
    if problems:
        print("\n".join(problems[:10]), file=sys.stderr)
        sys.exit(1)
    print(f"{len(hv_ours)} hosts, {len(ours) - 1} groups, {wrapped} untrusted strings")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "stats":
        stats(*args)
    elif cmd == "export":
        export(*args)
    else:
        sys.exit(f"unknown check {cmd}")


if __name__ == "__main__":
    main()
