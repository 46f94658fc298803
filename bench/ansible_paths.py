#!/usr/bin/env python3
"""Where an Ansible user's wait goes: the script path, the alicloud_ecs plugin path and the
plugin with a `hostvars` selection, timed with a real ansible-core on one generated fleet.

Called by bench/ansible_paths.sh (which builds the wheel and the virtualenv first):

  ansible_paths.py --venv VENV --sim SIM --bin BIN --out DIR [--instances N] [--runs N]

Per path, on a warm cache (the binary's own cache: no API call in any measured run):
`ansible-inventory --graph` and `ansible-inventory --list --export` (what AWX runs), the
minimum wall time of --runs runs, and one `ansible-playbook` run of a debug task on all hosts.
Prints a Markdown report (also written to DIR/report.md) with the issue's three targets.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

AK, SK = "BENCHAK", "BENCHSECRET"
LAST_CPU = 0.0
# the README's 9-pattern selection
HOSTVARS = ["instance_id", "instance_name", "instance_type", "private_ip_address",
            "public_ip_address", "ecs_tags", "region*", "zone_id", "status"]


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def cpu_of_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, env, out=subprocess.DEVNULL):
    """Wall time of one run; its CPU (user+sys of it and its children, such as the binary)
    is added to CPU[cmd[0]'s run] through the global LAST_CPU."""
    global LAST_CPU
    c0 = cpu_of_children()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    LAST_CPU = cpu_of_children() - c0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[-800:]}")
    if b"[WARNING]" in p.stderr or b"[ERROR]" in p.stderr:
        raise RuntimeError(f"{' '.join(cmd)} warned: {p.stderr.decode()[-800:]}")
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--instances", type=int, default=5000)
    ap.add_argument("--regions", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--forks", type=int, default=20)
    # the playbook runs a task on every host: minutes per path on 2 cores
    ap.add_argument("--playbook", default="script,plugin,selection",
                    help="the paths whose playbook run is timed (comma list; empty: none)")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    vbin = os.path.join(a.venv, "bin")

    fleet = os.path.join(out, f"fleet-{a.instances}.json")
    if not os.path.exists(fleet):
        with open(fleet, "w") as f:
            subprocess.run([a.sim, "generate", "--regions", str(a.regions), "--instances",
                            str(a.instances), "--seed", "26", "--stopped-fraction", "0", "--loopback"],
                           stdout=f, check=True)
    sim = subprocess.Popen([a.sim, "serve", "--fleet", fleet, "--listen", "127.0.0.1:0",
                            "--access-key", f"{AK}:{SK}"], stdout=subprocess.PIPE, text=True)
    try:
        url = sim.stdout.readline().split()[-1].rstrip("/")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ANSIBLE_", "ALICLOUD_", "ALIBABA_CLOUD_"))}
        cache = os.path.join(out, "cache")
        env.update(ALICLOUD_ACCESS_KEY=AK, ALICLOUD_SECRET_KEY=SK, ALICLOUD_ECS_ENDPOINT=url,
                   ANSIBLE_HOME=os.path.join(out, "ansible-home"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CONFIG=os.path.join(out, "ansible.cfg"), LC_ALL="C.UTF-8",
                   PATH=vbin + os.pathsep + env.get("PATH", ""))
        with open(env["ANSIBLE_CONFIG"], "w") as f:
            f.write("[defaults]\n")
        ini = os.path.join(out, "alicloud.ini")
        with open(ini, "w") as f:
            f.write(f"[ecs]\nregions = all\ncache_path = {cache}\ncache_max_age = 3600\n")
        os.chmod(ini, 0o600)
        plugin_dir, sel_dir = os.path.join(out, "plugin"), os.path.join(out, "selection")
        for d, extra in ((plugin_dir, ""), (sel_dir, f"hostvars: {json.dumps(HOSTVARS)}\n")):
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "fleet.alicloud.yml"), "w") as f:
                # the script path's hosts: running, with an address (a YAML's own default is
                # every instance, as the alicloud_ecs plugin lists them)
                f.write("plugin: alicloud_inventory.ecs.alicloud_ecs\nregions: all\n"
                        "instance_states: [running]\ndestination_variable: [public_ip_address]\n"
                        f"cache_connection: {cache}\ncache_timeout: 3600\n{extra}")
        script_env = dict(env, ALICLOUD_INI_PATH=ini)
        paths = [
            ("script", [os.path.join(vbin, "alicloud_inventory")], script_env),
            ("plugin", [os.path.join(plugin_dir, "fleet.alicloud.yml")], env),
            ("plugin + hostvars selection", [os.path.join(sel_dir, "fleet.alicloud.yml")], env),
        ]
        # fill each configuration's cache, and measure our own cold and warm runs
        ours = {}
        for name, src, e in paths:
            cfg = ini if name == "script" else src[0]
            lst = os.path.join(out, f"list-{name.split()[0]}{'-sel' if 'selection' in name else ''}.json")
            with open(lst, "wb") as f:
                cold = timed([a.bin, "--config", cfg, "--refresh-cache", "--list"], e, out=f)
            warm = min(timed([a.bin, "--config", cfg, "--list"], e) for _ in range(a.runs))
            data = json.load(open(lst))
            hv = data["_meta"]["hostvars"]
            nodes = sum(count_nodes(v) for v in hv.values())
            ours[name] = (cold, warm, len(hv), nodes / max(1, len(hv)), os.path.getsize(lst))
            log(f"{name}: {len(hv)} hosts, {nodes / max(1, len(hv)):.0f} JSON nodes per host, "
                f"cold {cold:.2f} s, warm {warm:.3f} s")
        rows = {}
        ai = os.path.join(vbin, "ansible-inventory")
        for name, src, e in paths:
            r = {}
            for what, args in (("graph", ["--graph"]), ("export", ["--list", "--export"])):
                times, cpus = [], []
                for _ in range(a.runs):
                    times.append(timed([ai, "-i", *src, *args], e))
                    cpus.append(LAST_CPU)
                r[what], r[what + "_cpu"] = min(times), min(cpus)
                log(f"{name} {what}: {', '.join(f'{t:.2f}' for t in times)} s wall, "
                    f"{', '.join(f'{t:.2f}' for t in cpus)} s CPU")
            key = "selection" if "selection" in name else name
            if key not in a.playbook.split(","):
                r["playbook"] = r["playbook_cpu"] = float("nan")
                rows[name] = r
                continue
            play = os.path.join(out, "debug.yml")
            with open(play, "w") as f:
                f.write("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - debug:\n        msg: \"{{ inventory_hostname }}\"\n")
            r["playbook"] = timed([os.path.join(vbin, "ansible-playbook"), "-i", *src, play,
                                   "-f", str(a.forks)], e)
            r["playbook_cpu"] = LAST_CPU
            log(f"{name} playbook: {r['playbook']:.2f} s")
            rows[name] = r
    finally:
        sim.terminate()
        sim.wait()

    version = subprocess.run([ai, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    pyver = subprocess.run([os.path.join(vbin, "python"), "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True).stdout.strip()
    s, p, q = rows["script"], rows["plugin"], rows["plugin + hostvars selection"]
    L = []
    hosts = ours["script"][2]
    L.append(f"{hosts} hosts from `ecs-simulator generate --instances {a.instances} --regions "
             f"{a.regions}` (full-size API instances), {version}, Python {pyver}, "
             f"{os.cpu_count()} cores; warm cache (no API call in a measured run); minimum of "
             f"{a.runs} runs; the playbook is one run of one `debug` task on all hosts "
             f"(`-f {a.forks}`, no connection).")
    L.append("")
    L.append("Wall time, then CPU (user+sys of Ansible and the binary it runs) in brackets:")
    L.append("")
    L.append("| path | JSON nodes per host | `--graph` | `--list --export` | `ansible-playbook` debug | our warm `--list` |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in rows:
        r, o = rows[name], ours[name]
        L.append(f"| {name} | {o[3]:.0f} | {r['graph']:.2f} s ({r['graph_cpu']:.2f} s) | "
                 f"{r['export']:.2f} s ({r['export_cpu']:.2f} s) | "
                 f"{r['playbook']:.2f} s ({r['playbook_cpu']:.2f} s) | {o[1] * 1000:.0f} ms |")
    L.append("")

    def verdict(ok):
        return "PASS" if ok else "FAIL"
    L.append("| target | wall | CPU | |")
    L.append("| --- | --- | --- | --- |")

    def ratio(label, x, y, what, limit):
        w, c = x[what] / y[what], x[what + "_cpu"] / y[what + "_cpu"]
        L.append(f"| {label} ≤ {limit}× script | {x[what]:.2f} / {y[what]:.2f} s = {w:.2f}× | "
                 f"{x[what + '_cpu']:.2f} / {y[what + '_cpu']:.2f} s = {c:.2f}× | "
                 f"{verdict(w <= limit)} |")
    ratio("plugin `--graph`", p, s, "graph", 0.7)
    ratio("plugin with selection, `--graph`", q, s, "graph", 0.2)
    ratio("plugin with selection, `--list --export`", q, s, "export", 0.2)
    L.append(f"| `--list --export` with selection ≤ 2 s | {q['export']:.2f} s | "
             f"{q['export_cpu']:.2f} s | {verdict(q['export'] <= 2.0)} |")
    text = "\n".join(L) + "\n"
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text)
    print(text)


def count_nodes(v):
    if isinstance(v, dict):
        return 1 + sum(count_nodes(x) for x in v.values())
    if isinstance(v, list):
        return 1 + sum(count_nodes(x) for x in v)
    return 1


if __name__ == "__main__":
    main()
