#!/usr/bin/env python3
"""Benchmark of alicloud_inventory against the project's ECS simulator.

Called by bench/run.sh, which builds the binaries first. Generates fleets with
`ecs-simulator generate`, serves them on loopback, runs the inventory as a whole process
(as Ansible does) and measures per run: wall time, user+sys CPU and peak RSS of the
inventory process (os.wait4), bytes printed on stdout, and from the simulator's
/_sim/stats: API requests, throttled requests and most requests in flight.

Writes docs/BENCHMARKS.md (full run) or bench/out/smoke.md (--smoke). Exits 1 when a basic
check fails (a run exits non-zero, prints invalid JSON, or makes more or fewer requests than
the fewest possible); the timing targets are reported as PASS/FAIL but never fail the script.
"""

import argparse
import glob
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

AK, SK = "BENCHAK", "BENCHSECRET"

# The constructed workload: 7 compose, 4 groups and 7 keyed_groups entries, as an operator
# shaping an inventory writes them. JSON is YAML flow syntax: the same text serves the ini,
# alicloud.yml and Ansible's constructed plugin.
CONSTRUCTED = {
    "compose": {
        "ansible_host": "private_ip_address",
        "env": "ecs_tags.env | default('none')",
        "short_type": "instance_type | regex_replace('^ecs\\.', '')",
        "cores": "cpu",
        "mem_gb": "memory / 1024",
        "sg_count": "security_group_ids | length",
        "name_upper": "instance_name | upper",
    },
    "groups": {
        "web": "'web' in (ecs_tags.role | default(''))",
        "big": "cpu >= 4",
        "running": "status == 'running'",
        "linux": "ostype | default('') == 'linux'",
    },
    "keyed_groups": [
        {"key": "ecs_tags", "prefix": "tag"},
        {"key": "zone_id", "prefix": "zone", "parent_group": "zones"},
        {"key": "region_id", "prefix": "region"},
        {"key": "instance_type", "prefix": "type"},
        {"key": "security_group_ids", "prefix": "sg"},
        {"key": "env", "prefix": "env"},
        {"key": "status | lower", "prefix": "status"},
    ],
}
# A 9-pattern hostvar selection, as the README suggests.
HOSTVARS = ["instance_id", "instance_name", "instance_type", "private_ip_address",
            "public_ip_address", "ecs_tags", "region*", "zone_id", "status"]


def constructed_ini():
    return "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in CONSTRUCTED.items())


def ansible_inventory():
    """ansible-inventory for the comparisons with Ansible: BENCH_ANSIBLE_INVENTORY, the
    end-to-end suite's virtualenv, or PATH; None when there is none."""
    here = os.path.dirname(os.path.abspath(__file__))
    for c in (os.environ.get("BENCH_ANSIBLE_INVENTORY"),
              os.path.join(here, "..", "tests", "e2e", ".work", "venv", "bin", "ansible-inventory"),
              shutil.which("ansible-inventory")):
        if c and os.access(c, os.X_OK):
            return os.path.abspath(c)
    return None

# --- sizes -----------------------------------------------------------------------------------

FULL = dict(
    runs=5,            # measured runs of the long workloads (after one warm-up)
    short_runs=21,     # measured runs of the millisecond workloads (warm, cat, --host, --graph)
    ansible_runs=3,    # measured runs of ansible-inventory --graph (seconds each)
    w1=dict(regions=20, instances=10_000, skew=0.5, latency=50),
    # the fleet: every region about 6 pages of running instances; and a quota of
    # DescribeInstances per region and window smaller than that (issue 31)
    even=dict(regions=20, instances=12_000, latency=50, quota=4, window_ms=1000),
    w2=dict(regions=20, instances=100_000, latency=5),
    w2_base=dict(regions=20, instances=10_000, latency=5),
    host_small=dict(regions=20, instances=100),
    throttle_above=8,
    # several accounts, one role each, against one account of the same size
    accounts=dict(accounts=5, regions=10, per_region=200, latency=50, throttle_above=8, runs=9),
)
SMOKE = dict(
    runs=2,
    short_runs=2,
    ansible_runs=1,
    w1=dict(regions=4, instances=1_000, skew=0.5, latency=10),
    even=dict(regions=4, instances=1_200, latency=10, quota=2, window_ms=500),
    w2=dict(regions=4, instances=3_000, latency=2),
    w2_base=dict(regions=4, instances=300, latency=2),
    host_small=dict(regions=4, instances=100),
    throttle_above=3,
    accounts=dict(accounts=3, regions=3, per_region=40, latency=10, throttle_above=2, runs=2),
)


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# --- fleets ----------------------------------------------------------------------------------

def generate(sim_bin, path, regions, instances, skew=None, loopback=False, seed=1):
    """Writes a fleet file (kept between runs with the same arguments)."""
    args = [sim_bin, "generate", "--regions", str(regions), "--instances", str(instances),
            "--seed", str(seed)]
    if skew is not None:
        args += ["--skew", str(skew)]
    if loopback:
        args += ["--loopback"]
    stamp = path + ".args"
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == repr(args[1:]):
        try:
            if os.path.getmtime(path) >= os.path.getmtime(sim_bin):
                return path
        except OSError:
            pass
    t0 = time.perf_counter()
    with open(path + ".tmp", "wb") as f:
        subprocess.run(args, stdout=f, check=True)
    os.replace(path + ".tmp", path)
    with open(stamp, "w") as f:
        f.write(repr(args[1:]))
    log(f"generated {path} ({instances} instances) in {time.perf_counter() - t0:.1f} s")
    return path


def fleet_summary(path, expected_instances):
    """Region ids and {region: {status: count}}, streaming one instance per line (the
    generator's layout); falls back to loading the whole file if the layout differs."""
    regions, counts, n = None, {}, 0
    sizes = 0
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                s = line.strip().rstrip(",")
                if regions is None and s.startswith('{"regions"'):
                    regions = [r["RegionId"] for r in json.loads(s + "}")["regions"]]
                elif s.startswith("{"):
                    inst = json.loads(s)
                    sizes += len(s.encode())
                    c = counts.setdefault(inst["RegionId"], {})
                    c[inst["Status"]] = c.get(inst["Status"], 0) + 1
                    n += 1
        if regions is None or n != expected_instances:
            raise ValueError("layout")
    except (ValueError, KeyError):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        regions = [r["RegionId"] for r in d["regions"]]
        counts = {}
        for inst in d["instances"]:
            c = counts.setdefault(inst["RegionId"], {})
            c[inst["Status"]] = c.get(inst["Status"], 0) + 1
            sizes += len(json.dumps(inst, ensure_ascii=False, separators=(",", ":")).encode())
    FLEET_MEAN_SIZE[os.path.basename(path)] = sizes / max(1, expected_instances)
    return regions, counts


# Mean bytes of an instance's JSON, by fleet file name (fleet_summary fills it).
FLEET_MEAN_SIZE = {}


def running(counts):
    """How many instances a default run decodes: the running ones."""
    return sum(c.get("Running", 0) for c in counts.values())


def fewest_requests(regions, counts, states=("Running",)):
    """DescribeInstances pages of 100: at least one per listed region."""
    total = 0
    for r in regions:
        n = sum(counts.get(r, {}).get(s, 0) for s in states)
        total += max(1, math.ceil(n / 100))
    return total


# --- the simulator ---------------------------------------------------------------------------

class Sim:
    def __init__(self, sim_bin, fleet, latency, throttle_above=None, logdir=".", extra=(),
                 tag=""):
        args = [sim_bin, "serve", "--fleet", fleet, "--listen", "127.0.0.1:0",
                "--access-key", f"{AK}:{SK}", "--latency-ms", str(latency), *extra]
        if throttle_above is not None:
            args += ["--throttle-above-inflight", str(throttle_above)]
        self.latency = latency
        name = os.path.basename(fleet).replace(".json", "")
        self.errlog = os.path.join(logdir, f"sim-{name}{tag}-{latency}ms"
                                   f"{'-t' + str(throttle_above) if throttle_above else ''}.log")
        t0 = time.perf_counter()
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(self.errlog, "w"),
                                  text=True)
        line = self.p.stdout.readline()  # blocks until the fleet is loaded and it listens
        if not line.startswith("listening on "):
            self.p.kill()
            raise RuntimeError(f"simulator did not start: {line!r}; see {self.errlog}")
        self.url = line.split()[-1].rstrip("/")
        log(f"simulator {self.url} ({name}, {latency} ms"
            f"{', throttle above ' + str(throttle_above) if throttle_above else ''}) "
            f"ready in {time.perf_counter() - t0:.1f} s")

    def _call(self, method, path):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body.strip() else {}

    def stats(self):
        return self._call("GET", "/_sim/stats")

    def reset(self):
        self._call("POST", "/_sim/reset")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# --- one whole-process run -------------------------------------------------------------------

TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_once(cmd, env, errpath, keep=False):
    """Runs cmd with stdout on a pipe read in 1 MiB chunks (as Ansible reads it).
    Returns dict(wall, cpu, rss (bytes), out_bytes, rc, out (bytes if keep)).

    Peak RSS comes from GNU time (`%M`): ru_maxrss of a process started straight from Python
    would count this Python process's memory, which the child inherits until its exec.
    CPU (user+sys) is wait4's of the whole tree (GNU time itself adds well under 1 ms)."""
    rssfile = errpath + ".rss"
    full = [TIME, "-f", "%M", "-o", rssfile, *cmd] if TIME else cmd
    with open(errpath, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=err, env=env)
        fd = p.stdout.fileno()
        n, chunks = 0, []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            n += len(b)
            if keep:
                chunks.append(b)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    rss = ru.ru_maxrss * 1024
    if TIME:
        try:
            with open(rssfile) as f:
                rss = int(f.read().strip().splitlines()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    return dict(wall=wall, cpu=ru.ru_utime + ru.ru_stime, rss=rss,
                out_bytes=n, rc=p.returncode, out=b"".join(chunks) if keep else None)


class Workload:
    def __init__(self, name, cmd, env=None, sim=None, fewest=None, check=None, note="",
                 text=False, decoded=None, before=None):
        self.name, self.cmd, self.env, self.sim = name, cmd, env, sim
        self.before = before      # called before every run (after the simulator's reset)
        self.decoded = decoded    # instances in the API's answers (None: not a cold run)
        self.fewest = fewest      # the fewest possible API requests (None: not counted)
        self.check = check        # function(parsed JSON, or bytes if text) -> error or None
        self.note = note
        self.text = text          # the output is text, not JSON
        self.runs = []            # measured runs
        self.errors = []

    def one(self, errpath, keep=False):
        if self.sim:
            self.sim.reset()
        if self.before:
            self.before()
        r = run_once(self.cmd, self.env, errpath, keep)
        if self.sim:
            st = self.sim.stats()
            by_region = st.get("throttled_by_region") or {}
            r.update(requests=st.get("requests", 0), throttled=st.get("throttled", 0),
                     throttled_region_max=max(by_region.values(), default=0),
                     sim_errors=st.get("errors", 0), max_in_flight=st.get("max_in_flight", 0),
                     body_bytes=st.get("ok_body_bytes", 0))
        return r

    def med(self, key):
        return statistics.median(r[key] for r in self.runs)


def measure(group, runs, outdir, validate=True):
    """One warm-up run, then `runs` rounds; workloads of one group alternate, so a change of
    the machine's load hits each of them alike. The warm-up's output is checked."""
    for w in group:
        errpath = os.path.join(outdir, f"{slug(w.name)}.stderr")
        r = w.one(errpath, keep=validate and w.check is not None)
        if r["rc"] != 0:
            w.errors.append(f"exit code {r['rc']} (stderr: {errpath}): "
                            + open(errpath, errors="replace").read()[-500:].strip())
        elif w.check is not None and validate and w.text:
            e = w.check(r["out"])
            if e:
                w.errors.append(e)
        elif w.check is not None and validate:
            try:
                doc = json.loads(r["out"])
            except ValueError as e:
                w.errors.append(f"invalid JSON on stdout: {e}")
            else:
                e = w.check(doc)
                if e:
                    w.errors.append(e)
                del doc
        r["out"] = None
    for _ in range(runs):
        for w in group:
            r = w.one(os.path.join(outdir, f"{slug(w.name)}.stderr"))
            if r["rc"] != 0 and not any(e.startswith("exit code") for e in w.errors):
                w.errors.append(f"exit code {r['rc']} in a measured run")
            w.runs.append(r)
    for w in group:
        if not w.runs:
            continue
        if w.fewest is not None:
            made = sorted({r["requests"] - r["throttled"] for r in w.runs})
            if made != [w.fewest]:
                w.errors.append(f"requests made (not counting throttled ones) {made}, "
                                f"the fewest possible {w.fewest}")
        log(f"{w.name}: median {w.med('wall') * 1000:.1f} ms, cpu {w.med('cpu') * 1000:.1f} ms, "
            f"rss {max(r['rss'] for r in w.runs) / 2**20:.1f} MiB, "
            f"{w.runs[0]['out_bytes']} bytes"
            + (f", requests {[r['requests'] for r in w.runs]}"
               f" throttled {[r['throttled'] for r in w.runs]}"
               f" inflight {[r['max_in_flight'] for r in w.runs]}" if w.sim else "")
            + (f"  ERRORS: {w.errors}" if w.errors else ""))


def slug(s):
    return "".join(c if c.isalnum() else "-" for c in s.lower()).strip("-")


def write_ini(path, regions, cache_dir, extra=""):
    os.makedirs(cache_dir, exist_ok=True)
    with open(path, "w") as f:
        f.write("[ecs]\n"
                f"regions = {', '.join(regions)}\n"
                f"cache_path = {cache_dir}\n"
                "cache_max_age = 3600\n" + extra)
    return path


def check_list(expect_hosts=None):
    def check(doc):
        if not isinstance(doc, dict) or "_meta" not in doc or "hostvars" not in doc["_meta"]:
            return "--list output has no _meta.hostvars"
        if expect_hosts is not None and len(doc["_meta"]["hostvars"]) != expect_hosts:
            return f"{len(doc['_meta']['hostvars'])} hosts, expected {expect_hosts}"
        return None
    return check


def check_host(instance_id):
    """--host printed that instance's hostvars: its id, and an address to reach it by."""
    def check(doc):
        if not isinstance(doc, dict) or not doc:
            return "--host printed no hostvars (host not found?)"
        if doc.get("id") != instance_id or doc.get("instance_id") != instance_id:
            return f"--host printed the hostvars of {doc.get('id')!r}, not {instance_id!r}"
        if not doc.get("ansible_host") or doc.get("ansible_ssh_host") != doc.get("ansible_host"):
            return "--host printed no ansible_host"
        return None
    return check


def check_any_json(doc):
    return None


def check_graph(expect_hosts):
    """--graph output: the tree of `all`, every host under @alicloud."""
    def check(out):
        lines = out.decode("utf-8", "replace").splitlines()
        if lines[:2] != ["@all:", "  |--@ungrouped:"]:
            return f"--graph does not start with @all: and @ungrouped: ({lines[:2]})"
        try:
            at = lines.index("  |--@alicloud:")
        except ValueError:
            return "--graph has no @alicloud group"
        hosts = 0
        for line in lines[at + 1:]:
            if not line.startswith("  |  |--"):
                break
            hosts += 1
        if hosts != expect_hosts:
            return f"--graph shows {hosts} hosts under @alicloud, expected {expect_hosts}"
        return None
    return check


def check_same_bytes(want, what):
    def check(out):
        if out != want:
            return f"not byte-identical to {what} ({len(out)} bytes against {len(want)})"
        return None
    return check


def find_ansible(out, install):
    """ansible-inventory of ansible-core 2.19: BENCH_ANSIBLE_INVENTORY, the e2e suite's
    virtualenv, or (when `install`) a virtualenv made under bench/out. None when there is none."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("BENCH_ANSIBLE_INVENTORY", ""),
                  os.path.join(here, "..", "tests", "e2e", ".work", "venv", "bin",
                               "ansible-inventory"),
                  os.path.join(out, "venv", "bin", "ansible-inventory")]

    def version(path):
        try:
            v = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, LC_ALL="C.UTF-8")).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        first = v.splitlines()[0] if v else ""
        return first if "core 2.19." in first else None

    for c in candidates:
        if c and os.access(c, os.X_OK) and version(c):
            return os.path.abspath(c), version(c)
    if not install:
        return None, None
    venv = os.path.join(out, "venv")
    log(f"installing ansible-core 2.19 into {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q",
                    "--disable-pip-version-check", "ansible-core>=2.19,<2.20"], check=True)
    path = os.path.join(venv, "bin", "ansible-inventory")
    return (path, version(path)) if version(path) else (None, None)


def ansible_env(base, out, ini):
    """The environment ansible-inventory runs in: its own config and home under `out`, the
    inventory's configuration through ALICLOUD_INI_PATH (a script gets only --list)."""
    home = os.path.join(out, "ansible")
    os.makedirs(os.path.join(home, "tmp"), exist_ok=True)
    cfg = os.path.join(home, "ansible.cfg")
    with open(cfg, "w") as f:
        f.write("[defaults]\n")
    e = dict(base)
    for k in list(e):
        if k.startswith("ANSIBLE_"):
            del e[k]
    e.update(ALICLOUD_INI_PATH=ini, ANSIBLE_CONFIG=cfg, ANSIBLE_HOME=home,
             ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"), LC_ALL="C.UTF-8", LANG="C.UTF-8",
             ANSIBLE_NOCOLOR="1")
    return e


def check_constructed(doc):
    e = check_list()(doc)
    if e:
        return e
    for g in ("running", "zones"):
        if g not in doc:
            return f"constructed group {g} is missing"
    if not doc["zones"].get("children"):
        return "parent group zones has no children"
    hv = next(iter(doc["_meta"]["hostvars"].values()), {})
    if not isinstance(hv.get("cores"), int) or not isinstance(hv.get("mem_gb"), float):
        return "composed variables missing or of the wrong type"
    return None


def measure_ansible(ansible, inv, out, ini_plain, ini_sel, env, runs_dir):
    """One run each of: ansible-inventory --list over a script printing our plain W1 output,
    the same with Ansible's constructed plugin and CONSTRUCTED's entries, and --graph of our
    warm W1 inventory with every hostvar and with the HOSTVARS selection. Returns
    {name: {wall, cpu}}."""
    adir = os.path.join(out, "ansible")
    os.makedirs(os.path.join(adir, "tmp"), exist_ok=True)
    with open(os.path.join(adir, "ansible.cfg"), "w") as f:
        f.write("[defaults]\n")
    aenv = {k: v for k, v in env.items() if not k.startswith("ANSIBLE_")}
    aenv.update(ANSIBLE_CONFIG=os.path.join(adir, "ansible.cfg"), ANSIBLE_HOME=adir,
                ANSIBLE_LOCAL_TEMP=os.path.join(adir, "tmp"), ANSIBLE_NOCOLOR="1",
                ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS="always")
    plain = os.path.join(adir, "plain.json")
    r = run_once([inv, "--config", ini_plain, "--list"], env, os.path.join(runs_dir, "plain.stderr"),
                 keep=True)
    with open(plain, "wb") as f:
        f.write(r["out"])
    script = os.path.join(adir, "plain.sh")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\nexec cat {plain}\n")
    os.chmod(script, 0o755)
    cfile = os.path.join(adir, "constructed.yml")
    with open(cfile, "w", encoding="utf-8") as f:
        f.write("plugin: ansible.builtin.constructed\n")
        for k, v in CONSTRUCTED.items():
            f.write(f"{k}: {json.dumps(v, ensure_ascii=False)}\n")
    # The selection's cache is filled first, so that both --graph runs read a warm cache.
    run_once([inv, "--config", ini_sel, "--list"], env, os.path.join(runs_dir, "fill-sel.stderr"))
    res = {}
    for name, cmd, e in (
        ("plain", [ansible, "-i", script, "--list"], aenv),
        ("constructed", [ansible, "-i", script, "-i", cfile, "--list"], aenv),
        ("graph_all", [ansible, "-i", inv, "--graph"], dict(aenv, ALICLOUD_INI_PATH=ini_plain)),
        ("graph_sel", [ansible, "-i", inv, "--graph"], dict(aenv, ALICLOUD_INI_PATH=ini_sel)),
    ):
        errpath = os.path.join(runs_dir, f"ansible-{name}.stderr")
        t0 = time.perf_counter()
        r = run_once(cmd, e, errpath)
        if r["rc"] != 0:
            raise RuntimeError(f"ansible-inventory ({name}) exited {r['rc']}; see {errpath}")
        noise = [l for l in open(errpath, errors="replace") if l.startswith(("[WARNING]", "[ERROR]"))]
        if noise:
            raise RuntimeError(f"ansible-inventory ({name}) warned: {noise[0].strip()}")
        res[name] = dict(wall=r["wall"], cpu=r["cpu"], out_bytes=r["out_bytes"])
        log(f"ansible-inventory {name}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU "
            f"({time.perf_counter() - t0:.0f} s)")
    return res


# --- main ------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out", required=True, help="scratch directory")
    ap.add_argument("--doc", required=True, help="the Markdown report to write")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--write-baseline", metavar="FILE",
                    help="record this run's W1 and W2 cold CPU as the baseline the CPU "
                         "targets compare with")
    ap.add_argument("--baseline", metavar="FILE", default=BASELINE,
                    help="the recorded baseline (default: %(default)s)")
    a = ap.parse_args()

    P = SMOKE if a.smoke else FULL
    inv = os.path.abspath(os.path.join(a.bin_dir, "alicloud_inventory"))
    sim_bin = os.path.abspath(os.path.join(a.bin_dir, "ecs-simulator"))
    out = os.path.abspath(a.out)
    shutil.rmtree(os.path.join(out, "cache"), ignore_errors=True)
    os.makedirs(os.path.join(out, "cache"), exist_ok=True)
    runs_dir = os.path.join(out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    t_start = time.perf_counter()
    load_before = os.getloadavg()
    sims = []
    workloads = []
    try:
        # Fleets. W1 keeps the generator's defaults (some instances without an address are
        # left out of the inventory, as in real fleets); the W2-shaped fleets use --loopback
        # so that every instance has an address: with all_instances = True the host-lookup
        # caches hold exactly 100 and 100,000 hosts.
        w1, w2, wb, hs = P["w1"], P["w2"], P["w2_base"], P["host_small"]
        f_w1 = generate(sim_bin, os.path.join(out, f"fleet-w1-{w1['instances']}.json"),
                        w1["regions"], w1["instances"], skew=w1["skew"])
        f_w2 = generate(sim_bin, os.path.join(out, f"fleet-w2-{w2['instances']}.json"),
                        w2["regions"], w2["instances"], loopback=True)
        f_wb = generate(sim_bin, os.path.join(out, f"fleet-w2base-{wb['instances']}.json"),
                        wb["regions"], wb["instances"], loopback=True)
        f_hs = generate(sim_bin, os.path.join(out, f"fleet-hosts-{hs['instances']}.json"),
                        hs["regions"], hs["instances"], loopback=True)
        reg_w1, cnt_w1 = fleet_summary(f_w1, w1["instances"])
        reg_w2, cnt_w2 = fleet_summary(f_w2, w2["instances"])
        reg_wb, cnt_wb = fleet_summary(f_wb, wb["instances"])
        reg_hs, _ = fleet_summary(f_hs, hs["instances"])

        # Simulators: started once each, reused by every run (stats reset before each run).
        s_w1 = Sim(sim_bin, f_w1, w1["latency"], logdir=out); sims.append(s_w1)
        s_thr = Sim(sim_bin, f_w1, w1["latency"], throttle_above=P["throttle_above"], logdir=out)
        sims.append(s_thr)
        s_w2 = Sim(sim_bin, f_w2, w2["latency"], logdir=out); sims.append(s_w2)
        s_wb = Sim(sim_bin, f_wb, wb["latency"], logdir=out); sims.append(s_wb)
        s_hs = Sim(sim_bin, f_hs, wb["latency"], logdir=out); sims.append(s_hs)

        def env_for(sim):
            e = dict(os.environ)
            for k in list(e):
                if k.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")):
                    del e[k]
            e.update(ALICLOUD_ECS_ENDPOINT=sim.url, ALICLOUD_STS_ENDPOINT=sim.url,
                     ALICLOUD_ACCESS_KEY=AK, ALICLOUD_SECRET_KEY=SK, HOME=out)
            return e

        C = os.path.join(out, "cache")
        ini = lambda name, regions, extra="": write_ini(os.path.join(out, name + ".ini"),
                                                        regions, os.path.join(C, name), extra)
        ini_w1 = ini("w1", reg_w1)
        ini_w1_128 = ini("w1-128", reg_w1, "max_concurrency = 128\n")
        # --throttle-above-inflight refuses by concurrency, not by window: a short
        # throttle_window keeps each hold to the next "window" short.
        thr_window = "throttle_window = 0.2\n"
        ini_thr = ini("thr", reg_w1, thr_window)
        ini_thr8 = ini("thr-8", reg_w1, "max_concurrency = 8\n" + thr_window)
        ini_w2 = ini("w2", reg_w2)
        ini_wb = ini("w2base", reg_wb)
        all_hosts = ("all_instances = True\n"
                     "destination_variable = public_ip_address, private_ip_address\n")
        ini_h100k = ini("hosts-big", reg_w2, all_hosts)
        ini_h100 = ini("hosts-small", reg_hs, all_hosts)
        ini_w1k = ini("w1-constructed", reg_w1, constructed_ini())
        ini_w1sel = ini("w1-hostvars", reg_w1, f"hostvars = {', '.join(HOSTVARS)}\n")

        fewest_w1 = fewest_requests(reg_w1, cnt_w1)
        fewest_w2 = fewest_requests(reg_w2, cnt_w2)
        fewest_wb = fewest_requests(reg_wb, cnt_wb)
        I = lambda cfg, *args: [inv, "--config", cfg, *args]
        R = P["runs"]

        # W1 cold (the cache is rewritten by every run, so W1 warm then finds it fresh).
        W1 = Workload(f"W1 cold, defaults (max_concurrency 8 per region)",
                      I(ini_w1, "--refresh-cache"), env_for(s_w1), s_w1, fewest_w1, check_list(),
                      decoded=running(cnt_w1))
        W1c = Workload("W1 cold, max_concurrency = 128", I(ini_w1_128, "--refresh-cache"),
                       env_for(s_w1), s_w1, fewest_w1, check_list(), decoded=running(cnt_w1))
        W1k = Workload("W1 cold, 7 compose + 4 groups + 7 keyed_groups",
                       I(ini_w1k, "--refresh-cache"), env_for(s_w1), s_w1, fewest_w1,
                       check_constructed, decoded=running(cnt_w1))
        measure([W1, W1c, W1k], R, runs_dir)
        workloads += [W1, W1c, W1k]

        # The fleet at defaults (round trips), then with a quota per region and window
        # smaller than its pages: each region is refused once, holds to the next window and
        # finishes there. Runs start just after a window boundary.
        ev = P["even"]
        f_ev = generate(sim_bin, os.path.join(out, f"fleet-even-{ev['instances']}.json"),
                        ev["regions"], ev["instances"])
        reg_ev, cnt_ev = fleet_summary(f_ev, ev["instances"])
        fewest_ev = fewest_requests(reg_ev, cnt_ev)
        s_ev = Sim(sim_bin, f_ev, ev["latency"], logdir=out); sims.append(s_ev)
        s_q = Sim(sim_bin, f_ev, ev["latency"], logdir=out, tag=f"-quota{ev['quota']}",
                  extra=["--quota", str(ev["quota"]), "--quota-window-ms", str(ev["window_ms"])])
        sims.append(s_q)
        ini_ev = ini("even", reg_ev)
        ini_q = ini("even-quota", reg_ev, f"throttle_window = {ev['window_ms'] / 1000}\n")

        def window_start():
            ms = ev["window_ms"]
            time.sleep((ms - time.time() * 1000 % ms + 20) / 1000)

        ev_hosts = []

        def check_ev(doc):
            ev_hosts[:] = sorted(doc["_meta"]["hostvars"])
            return check_list()(doc)

        def check_same_hosts(doc):
            e = check_list()(doc)
            if e is None and sorted(doc["_meta"]["hostvars"]) != ev_hosts:
                e = (f"{len(doc['_meta']['hostvars'])} hosts, not the unthrottled run's "
                     f"{len(ev_hosts)}")
            return e

        pages_ev = max(math.ceil(c.get("Running", 0) / 100) for c in cnt_ev.values())
        Wev = Workload(f"{ev['regions']} regions × {ev['instances'] // ev['regions']} instances "
                       "cold, defaults", I(ini_ev, "--refresh-cache"), env_for(s_ev), s_ev,
                       fewest_ev, check_ev, decoded=running(cnt_ev))
        Wq = Workload(f"same, quota {ev['quota']} calls per region per {ev['window_ms']} ms "
                      f"window (regions of up to {pages_ev} pages)",
                      I(ini_q, "--refresh-cache"), env_for(s_q), s_q, fewest_ev,
                      check_same_hosts, before=window_start)
        measure([Wev, Wq], R, runs_dir)
        workloads += [Wev, Wq]

        # W1 warm vs cat of the same cache file.
        caches = glob.glob(os.path.join(C, "w1", "alicloud_inventory-*.cache"))
        if len(caches) != 1:
            raise RuntimeError(f"expected one cache file in {C}/w1, found {caches}")
        Ww = Workload("W1 warm --list", I(ini_w1, "--list"), env_for(s_w1), s_w1, 0,
                      check_list())
        Wcat = Workload("cat of the W1 cache file", ["cat", caches[0]], env_for(s_w1))
        w1_hosts = len(json.loads(run_once(I(ini_w1, "--list"), env_for(s_w1),
                                           os.path.join(runs_dir, "w1-hosts.stderr"),
                                           keep=True)["out"])["_meta"]["hostvars"])
        Wg = Workload("W1 warm --graph", I(ini_w1, "--graph"), env_for(s_w1), s_w1, 0,
                      check_graph(w1_hosts), text=True)
        measure([Ww, Wcat, Wg], P["short_runs"], runs_dir)
        workloads += [Ww, Wcat, Wg]

        # ansible-inventory --graph on the same warm cache: what the operator ran before.
        ansible, ansible_version = find_ansible(out, install=not a.smoke)
        Wa = None
        if ansible:
            ours = run_once(I(ini_w1, "--graph"), env_for(s_w1),
                            os.path.join(runs_dir, "graph-reference.stderr"), keep=True)["out"]
            Wa = Workload("ansible-inventory --graph, same warm cache",
                          [ansible, "-i", inv, "--graph"],
                          ansible_env(env_for(s_w1), out, ini_w1), s_w1, 0,
                          check_same_bytes(ours, "alicloud_inventory --graph"), text=True)
            measure([Wa], P["ansible_runs"], runs_dir)
            workloads.append(Wa)
        else:
            log("no ansible-core 2.19 found (set BENCH_ANSIBLE_INVENTORY, or run "
                "tests/e2e/run.sh once): ansible-inventory --graph is not measured")

        caches_k = glob.glob(os.path.join(C, "w1-constructed", "alicloud_inventory-*.cache"))
        if len(caches_k) != 1:
            raise RuntimeError(f"expected one cache file in {C}/w1-constructed, found {caches_k}")
        Wwk = Workload("W1 warm --list, constructed", I(ini_w1k, "--list"), env_for(s_w1), s_w1,
                       0, check_constructed)
        Wcatk = Workload("cat of the constructed W1 cache file", ["cat", caches_k[0]],
                         env_for(s_w1))
        measure([Wwk, Wcatk], P["short_runs"], runs_dir)
        workloads += [Wwk, Wcatk]

        # Ansible: its constructed plugin over our plain output (one run each: minutes), and
        # --graph of our warm output with every hostvar and with a 9-pattern selection.
        ansible_c = None if a.smoke else (ansible or ansible_inventory())
        AC = {}
        if ansible_c:
            AC = measure_ansible(ansible_c, inv, out, ini_w1, ini_w1sel, env_for(s_w1), runs_dir)
        else:
            log("ansible-inventory not found (or a smoke run): the comparisons with Ansible "
                "are not measured")

        # W2 cold vs the 10,000-instance run of the same shape and latency.
        W2 = Workload(f"W2 cold, {w2['instances']:,} instances", I(ini_w2, "--refresh-cache"),
                      env_for(s_w2), s_w2, fewest_w2, check_list(), decoded=running(cnt_w2))
        Wb = Workload(f"W2-shaped cold, {wb['instances']:,} instances",
                      I(ini_wb, "--refresh-cache"), env_for(s_wb), s_wb, fewest_wb, check_list(),
                      decoded=running(cnt_wb))
        measure([W2, Wb], R, runs_dir)
        workloads += [W2, Wb]

        # --host on warm caches of 100 and 100,000 hosts (every instance a host): fill the
        # caches first, then look up the fleet's last instance (the worst place for a scan).
        def last_id(path):
            with open(path, "rb") as f:
                f.seek(max(0, os.path.getsize(path) - 65536))
                tail = f.read().decode("utf-8", "replace")
            i = tail.rfind('"InstanceId":"')
            return tail[i + 14:tail.index('"', i + 14)]

        fill = []
        for cfg, sim, n in ((ini_h100k, s_w2, w2["instances"]), (ini_h100, s_hs, hs["instances"])):
            fw = Workload(f"fill {cfg}", I(cfg, "--refresh-cache"), env_for(sim), sim,
                          check=check_list(expect_hosts=n))
            measure([fw], 0, runs_dir, validate=True)
            fill.append(fw)
        id_big, id_small = last_id(f_w2), last_id(f_hs)
        h_big = id_big.lower().replace("-", "_")
        h_small = id_small.lower().replace("-", "_")
        Hs = Workload(f"--host, warm cache of {hs['instances']:,} hosts",
                      I(ini_h100, "--host", h_small), env_for(s_hs), s_hs, 0,
                      check_host(id_small))
        Hb = Workload(f"--host, warm cache of {w2['instances']:,} hosts",
                      I(ini_h100k, "--host", h_big), env_for(s_w2), s_w2, 0,
                      check_host(id_big))
        measure([Hs, Hb], P["short_runs"], runs_dir)
        workloads += [Hs, Hb]
        # The fills are checks only (100 / 100,000 hosts in the caches).
        for fw in fill:
            if fw.errors:
                Hs.errors += [f"{fw.name}: {e}" for e in fw.errors]

        # Throttled: the simulator refuses what goes beyond N in flight.
        n = P["throttle_above"]
        T = Workload(f"W1 cold, throttled above {n} in flight, defaults",
                     I(ini_thr, "--refresh-cache"), env_for(s_thr), s_thr, fewest_w1, check_list())
        T8 = Workload(f"W1 cold, same simulator, max_concurrency = {n}",
                      I(ini_thr8, "--refresh-cache"), env_for(s_thr), s_thr, fewest_w1,
                      check_list())
        measure([T, T8], R, runs_dir)
        workloads += [T, T8]

        # Accounts: N accounts, each a fleet of its own reached through a role of the control
        # account, against the control account alone holding as many instances in as many
        # regions. Same simulator (so same latency) for both; the multi-account run pays the
        # AssumeRole wave. A second simulator throttles each account above a few in flight.
        A = P["accounts"]
        n_acc, total = A["accounts"], A["accounts"] * A["regions"] * A["per_region"]
        f_one = generate(sim_bin, os.path.join(out, f"fleet-acc-one-{total}.json"),
                         A["regions"], total)
        acc_fleets, sim_extra, entries, fewest_multi = [], [], [], n_acc
        for k in range(n_acc):
            account_id = f"{3000000000000001 + k}"
            f = generate(sim_bin, os.path.join(out, f"fleet-acc-{k + 1}.json"), A["regions"],
                         A["regions"] * A["per_region"], seed=101 + k)
            reg_k, cnt_k = fleet_summary(f, A["regions"] * A["per_region"])
            fewest_multi += fewest_requests(reg_k, cnt_k)
            arn = f"acs:ram::{account_id}:role/inventory-reader"
            sim_extra += ["--account", f"{account_id}:{f}", "--role-arn", arn]
            entries.append(f'{{alias: acc{k + 1}, role_arn: "{arn}"}}')
            acc_fleets.append(f)
        reg_one, cnt_one = fleet_summary(f_one, total)
        fewest_one = fewest_requests(reg_one, cnt_one)
        s_acc = Sim(sim_bin, f_one, A["latency"], logdir=out, extra=sim_extra, tag="-accounts")
        sims.append(s_acc)
        s_acc_thr = Sim(sim_bin, f_one, A["latency"], throttle_above=A["throttle_above"],
                        logdir=out, extra=sim_extra, tag="-accounts")
        sims.append(s_acc_thr)
        ini_one = ini("acc-one", reg_one, thr_window)
        accounts_line = "accounts = [" + ",\n    ".join(entries) + "]\n"
        ini_multi = ini("acc-multi", reg_one, accounts_line + thr_window)
        Aone = Workload(f"One account, {total:,} instances in {A['regions']} regions",
                        I(ini_one, "--refresh-cache"), env_for(s_acc), s_acc, fewest_one,
                        check_list())
        Amulti = Workload(f"{n_acc} accounts × {A['regions']} regions × {A['per_region']} "
                          f"instances (roles)", I(ini_multi, "--refresh-cache"), env_for(s_acc),
                          s_acc, fewest_multi, check_list())
        # More runs than the other rows: the two are compared to within a round trip.
        measure([Aone, Amulti], A["runs"], runs_dir)
        workloads += [Aone, Amulti]
        At = Workload(f"{n_acc} accounts, each throttled above {A['throttle_above']} in flight",
                      I(ini_multi, "--refresh-cache"), env_for(s_acc_thr), s_acc_thr,
                      fewest_multi, check_list())
        measure([At], R, runs_dir)
        workloads += [At]
    finally:
        for s in sims:
            s.stop()

    elapsed = time.perf_counter() - t_start
    load_after = os.getloadavg()

    # --- targets -------------------------------------------------------------------------------
    lat1 = W1.sim.latency
    rt = lambda w: w.med("wall") / (w.sim.latency / 1000)
    thr_frac = max(r["throttled"] / r["requests"] for r in T.runs if r["requests"]) \
        if T.runs else 0
    acc_extra_rt = (Amulti.med("wall") - Aone.med("wall")) / (A["latency"] / 1000)
    acc_thr = max(r["throttled"] / r["requests"] for r in At.runs if r["requests"]) \
        if At.runs else 0
    rss_w2 = max(r["rss"] for r in W2.runs)
    added = W1k.med("cpu") - W1.med("cpu")
    if a.write_baseline and not a.smoke:
        with open(a.write_baseline, "w", encoding="utf-8") as f:
            json.dump({"commit": git("rev-parse", "--short", "HEAD"),
                       "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                       "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
                       "w1_cold_cpu": round(W1.med("cpu"), 4),
                       "w2_cold_cpu": round(W2.med("cpu"), 4)}, f, indent=1)
            f.write("\n")
        log(f"baseline written to {a.write_baseline}")
    base = None if a.smoke else read_baseline(a.baseline)
    q_thr = max((r["throttled_region_max"] for r in Wq.runs), default=0)
    q_hosts_same = not Wq.errors
    targets = [
        ("W1 cold, defaults: round trips", f"{rt(W1):.1f}", "≤ 6", rt(W1) <= 6),
        (f"{Wev.name}: round trips", f"{rt(Wev):.1f}", "≤ 4", rt(Wev) <= 4),
        (f"quota {ev['quota']} per window: wall ÷ window", f"{Wq.med('wall') * 1000 / ev['window_ms']:.2f}",
         "≤ 1.5", Wq.med("wall") * 1000 <= 1.5 * ev["window_ms"]),
        (f"quota {ev['quota']} per window: throttled answers per region (worst run)", f"{q_thr}",
         "≤ 4", q_thr <= 4 and q_hosts_same),
        ("W1 cold: CPU the constructed entries add", f"{added * 1000:.0f} ms = "
         f"{added / W1.med('cpu') * 100:.0f} %", "≤ 25 %", added <= 0.25 * W1.med("cpu")),
        ("W1 warm --list, constructed ÷ cat of its cache file",
         f"{Wwk.med('wall') / Wcatk.med('wall'):.2f}×", "≤ 2×",
         Wwk.med("wall") <= 2 * Wcatk.med("wall")),
        ("W1 cold, max_concurrency = 128: round trips", f"{rt(W1c):.1f}", "≤ 4", rt(W1c) <= 4),
        ("W1 cold: requests made = fewest possible (both)",
         " / ".join(map(str, sorted({r['requests'] for r in W1.runs + W1c.runs})))
         + f" vs {fewest_w1}", "equal",
         all(r["requests"] == fewest_w1 for r in W1.runs + W1c.runs)),
        ("W1 warm ÷ cat of the cache file", f"{Ww.med('wall') / Wcat.med('wall'):.2f}×", "≤ 1.3×",
         Ww.med("wall") <= 1.3 * Wcat.med("wall")),
        ("W1 warm --graph: median wall", fmt_ms(Wg.med("wall")), "≤ 50 ms",
         Wg.med("wall") <= 0.050),
    ]
    if Wa is not None and Wa.runs:
        targets.append(("ansible-inventory --graph ÷ alicloud_inventory --graph, same output",
                        f"{Wa.med('wall') / Wg.med('wall'):.0f}×", "≥ 100×",
                        Wa.med("wall") >= 100 * Wg.med("wall")))
    targets += [
        ("--host: 100,000 hosts ÷ 100 hosts" if not a.smoke else "--host: big ÷ small cache",
         f"{Hb.med('wall') / Hs.med('wall'):.2f}×", "≤ 1.5×", Hb.med("wall") <= 1.5 * Hs.med("wall")),
        ("W2 cold: peak RSS ÷ bytes printed", f"{rss_w2 / W2.runs[0]['out_bytes']:.2f}×", "≤ 1.5×",
         rss_w2 <= 1.5 * W2.runs[0]["out_bytes"]),
        ("W2 cold: CPU ÷ CPU of the 10,000-instance run" if not a.smoke else "W2 cold: CPU ratio",
         f"{W2.med('cpu') / Wb.med('cpu'):.2f}×", "≤ 11×", W2.med("cpu") <= 11 * Wb.med("cpu")),
    ]
    if base:
        for w, key, label in ((W1, "w1_cold_cpu", "W1 cold"), (W2, "w2_cold_cpu", "W2 cold")):
            b = base[key]
            targets.append((f"{label}: CPU ÷ baseline (commit {base['commit']})",
                            f"{fmt_ms(w.med('cpu'))} ÷ {fmt_ms(b)} = {w.med('cpu') / b:.2f}",
                            "≤ 0.25", w.med("cpu") <= 0.25 * b))
    if AC:
        a_added = AC["constructed"]["cpu"] - AC["plain"]["cpu"]
        targets += [
            ("constructed CPU added: ours ÷ Ansible's constructed plugin",
             f"{added * 1000:.0f} ms ÷ {a_added:.1f} s = 1/{a_added / max(added, 1e-6):.0f}",
             "≤ 1/100", added * 100 <= a_added),
            ("ansible-inventory --graph, warm: every hostvar ÷ 9-pattern selection",
             f"{AC['graph_all']['wall']:.1f} s ÷ {AC['graph_sel']['wall']:.1f} s = "
             f"{AC['graph_all']['wall'] / AC['graph_sel']['wall']:.1f}×", "≥ 4×",
             AC["graph_all"]["wall"] >= 4 * AC["graph_sel"]["wall"]),
        ]
    targets += [
        ("throttled: share of requests throttled (worst run)", f"{thr_frac * 100:.1f} %", "≤ 20 %",
         thr_frac <= 0.20),
        (f"throttled ÷ max_concurrency = {n} run", f"{T.med('wall') / T8.med('wall'):.2f}×",
         "≤ 1.5×", T.med("wall") <= 1.5 * T8.med("wall")),
        (f"{n_acc} accounts − one account of the same size, in round trips",
         f"{acc_extra_rt:+.1f}", "≤ +1", acc_extra_rt <= 1),
        (f"{n_acc} accounts throttled above {A['throttle_above']} each: share throttled "
         "(worst run)", f"{acc_thr * 100:.1f} %", "≤ 20 %", acc_thr <= 0.20),
    ]

    errors = [f"{w.name}: {e}" for w in workloads for e in w.errors]
    write_doc(a, P, workloads, targets, errors, elapsed, load_before, load_after,
              dict(w1=w1, w2=w2, even=ev, fewest_even=fewest_ev, wb=wb, hs=hs, fewest_w1=fewest_w1, fewest_w2=fewest_w2,
                   fewest_wb=fewest_wb, throttle=n, hosts=(h_small, h_big), accounts=A,
                   fewest_one=fewest_one, fewest_multi=fewest_multi, ansible=ansible_version,
                   constructed_ansible=AC))
    for t in targets:
        # Small fleets and debug binaries say nothing about the targets: in a smoke run the
        # figures are shown for information, and only the checks below can fail it.
        verdict = "info" if a.smoke else ("PASS" if t[3] else "FAIL")
        log(f"{verdict}  {t[0]}: {t[1]} (target {t[2]})")
    log(f"measured in {elapsed:.0f} s; load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f}; report: {a.doc}")
    if errors:
        for e in errors:
            log("CHECK FAILED:", e)
        return 1
    return 0


def fmt_bytes(n):
    for unit, k in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def fmt_ms(s):
    return f"{s * 1000:.1f} ms" if s < 10 else f"{s:.2f} s"


def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        return ""


def write_doc(a, P, workloads, targets, errors, elapsed, lb, la, k):
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rows = []
    for w in workloads:
        lat = w.sim.latency if w.sim else None
        if w.sim and w.fewest:
            rts = f"{w.med('wall') / (lat / 1000):.1f} × {lat} ms"
        else:
            rts = "—"
        if w.sim:
            reqs = sorted({r["requests"] for r in w.runs})
            thr = sorted({r["throttled"] for r in w.runs})
            req = f"{'–'.join(map(str, [reqs[0], reqs[-1]] if len(reqs) > 1 else reqs))}"
            if any(thr):
                req += f" ({'–'.join(map(str, [thr[0], thr[-1]] if len(thr) > 1 else thr))} throttled)"
            req += f" / {w.fewest}"
            mif = str(max(r["max_in_flight"] for r in w.runs))
        else:
            req, mif = "—", "—"
        if w.decoded:
            per_k = fmt_ms(w.med("cpu") / w.decoded * 1000)
            mbs = f"{statistics.median(r['body_bytes'] for r in w.runs) / w.med('cpu') / 1e6:.0f}"
        else:
            per_k = mbs = "—"
        rows.append(f"| {w.name} | {fmt_ms(w.med('wall'))} | {rts} | {req} | {mif} | "
                    f"{fmt_ms(w.med('cpu'))} | {per_k} | {mbs} | "
                    f"{fmt_bytes(max(r['rss'] for r in w.runs))} | "
                    f"{fmt_bytes(w.runs[0]['out_bytes'])} |")
    commit = git("rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", "src") else ""
    # The load average counts the benchmark's own processes (inventory and simulator on 2 CPUs),
    # so only a figure above the CPU count says that something else was running.
    cpus = os.cpu_count() or 1
    busy = ("busy" if lb[0] > cpus or la[0] > cpus else "quiet")
    w1, w2, wb, hs = k["w1"], k["w2"], k["wb"], k["hs"]
    L = []
    L.append("# Benchmarks" + (" (smoke run: small fleets, not the issue's workloads)" if a.smoke else ""))
    L.append("")
    L.append("Generated by `bash bench/run.sh` down to the findings, which are written by hand. "
             "`bash bench/run.sh --smoke` runs the same checks on small fleets in seconds.")
    L.append("")
    L.append("The claim: a cold `--list` costs a few API round trips (all regions and all pages "
             "concurrently, no page fetched twice), a warm one little more than reading a file, "
             "`--host` costs the same on 100 hosts as on 100,000, and `--graph` draws in "
             "milliseconds the tree `ansible-inventory --graph` takes seconds to draw.")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append(f"Run of {time.strftime('%Y-%m-%d %H:%M %Z')}, commit `{commit}`{dirty}; "
             f"{os.cpu_count()} CPUs ({cpu or platform.machine()}), {platform.system()} "
             f"{platform.release()}. Load average {lb[0]:.2f} before and {la[0]:.2f} after "
             f"the measurements — the machine was {busy}"
             + (" (load above the CPU count: absolute times are pessimistic; "
                "every ratio compares runs interleaved with each other)" if busy == "busy" else "")
             + f". The measurements took {elapsed:.0f} s.")
    L.append("")
    L.append("| Workload | Median wall | Wall in round trips | API requests made / fewest possible "
             "| Most in flight | CPU (user+sys) | CPU per 1,000 instances | Page bodies ÷ CPU, "
             "MB/s | Peak RSS | Bytes printed |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    L += rows
    L.append("")
    L.append("| Target | Measured | Limit | Result |")
    L.append("|---|---:|---:|---|")
    for name, val, lim, ok in targets:
        verdict = "info (smoke)" if a.smoke else f"**{'PASS' if ok else 'FAIL'}**"
        L.append(f"| {name} | {val} | {lim} | {verdict} |")
    L.append("")
    if errors:
        L.append("Checks that failed:")
        L.append("")
        for e in errors:
            L.append(f"- {e}")
        L.append("")
    AC = k.get("constructed_ansible") or {}
    if AC:
        L.append("Ansible (ansible-core, one run each: they take minutes), on the W1 inventory:")
        L.append("")
        L.append("| ansible-inventory run | Wall | CPU (user+sys) | Bytes printed |")
        L.append("|---|---:|---:|---:|")
        for name, label in (
            ("plain", "`-i plain.sh --list` (a script printing our plain W1 `--list`)"),
            ("constructed", "`-i plain.sh -i constructed.yml --list` (Ansible's constructed plugin, same entries)"),
            ("graph_all", "`-i alicloud_inventory --graph`, warm cache, every hostvar"),
            ("graph_sel", "`-i alicloud_inventory --graph`, warm cache, 9-pattern `hostvars`"),
        ):
            r = AC[name]
            L.append(f"| {label} | {fmt_ms(r['wall'])} | {fmt_ms(r['cpu'])} | {fmt_bytes(r['out_bytes'])} |")
        L.append("")
    L.append("## Workloads")
    L.append("")
    sizes = ", ".join(f"{n}: {v:,.0f} B" for n, v in sorted(FLEET_MEAN_SIZE.items())
                      if n.startswith(("fleet-w1", "fleet-w2")))
    L.append(f"- **Instances** carry every field of the API's Instance object (the 69 of "
             f"alibabacloud-ecs20140526 7.11.8, nested ones included; `Tags` is left out of "
             f"untagged instances, as the API does). Mean size of one instance's JSON: "
             f"{sizes}.")
    L.append(f"- **W1**: {w1['regions']} regions, {w1['instances']:,} instances, "
             f"{int(w1['skew'] * 100)} % of them in the first region (`generate --skew "
             f"{w1['skew']}`), {w1['latency']} ms simulated latency per request, `regions` listed "
             f"explicitly in the ini, default `instance_states = running`. Cold = "
             f"`--refresh-cache` (every page from the API, then the cache is rewritten); the "
             f"fewest possible requests are, per region, ceil(running instances ÷ 100), at "
             f"least 1: {k['fewest_w1']}. Warm = `--list` from the cache the cold runs just "
             f"wrote, against `cat` of that cache file (which also prints the cache header "
             f"and index). Warm `--graph` draws the group tree from that cache; "
             + (f"`ansible-inventory -i alicloud_inventory --graph` ({k['ansible']}) draws it "
                f"from the same warm cache, and must print the same bytes."
                if k.get("ansible") else
                "`ansible-inventory --graph` was not measured (no ansible-core 2.19 found)."))
    L.append("- **Constructed**: W1 with 7 `compose`, 4 `groups` and 7 `keyed_groups` entries "
             "(`CONSTRUCTED` in bench/measure.py) in the ini, cold against W1 cold with the "
             "defaults (the CPU the entries add), and warm against `cat` of its cache file. "
             "The same entries in a `constructed.yml` for Ansible's own plugin, stacked on a "
             "script that prints our plain W1 output, against that script alone; and "
             "`ansible-inventory --graph` of our warm W1 inventory with every hostvar and with "
             f"`hostvars = {', '.join(HOSTVARS)}`. The Ansible runs need ansible-core "
             "(`BENCH_ANSIBLE_INVENTORY`, the end-to-end suite's virtualenv, or PATH) and are "
             "left out of the smoke run.")
    ev = k["even"]
    L.append(f"- **Per-region fleet** (issue 31): {ev['regions']} regions × "
             f"{ev['instances'] // ev['regions']} instances (`generate --regions {ev['regions']} "
             f"--instances {ev['instances']}`: about 90 % running, so up to 6 pages a region), "
             f"{ev['latency']} ms per request, defaults; fewest possible {k['fewest_even']} "
             f"requests. The quota run uses a simulator that serves {ev['quota']} "
             f"DescribeInstances per region per {ev['window_ms']} ms window (`--quota "
             f"{ev['quota']} --quota-window-ms {ev['window_ms']}`) and the ini's "
             f"`throttle_window = {ev['window_ms'] / 1000}`; each run starts 20 ms after a "
             f"window boundary and must list the hosts of the unthrottled run. \"Throttled "
             f"answers per region\" is the most any region drew (`throttled_by_region`).")
    L.append(f"- **W2**: {w2['regions']} regions, {w2['instances']:,} instances spread evenly, "
             f"{w2['latency']} ms latency; fewest possible {k['fewest_w2']} requests. Its CPU "
             f"time is compared with a run of the same shape with {wb['instances']:,} instances "
             f"and the same latency (fewest possible {k['fewest_wb']}). Both fleets are "
             f"generated with `--loopback` (every instance has an address).")
    L.append(f"- **--host**: caches filled with `all_instances = True` and `destination_variable "
             f"= public_ip_address, private_ip_address`, so every instance is a host: "
             f"{hs['instances']:,} hosts (a {hs['instances']}-instance fleet) and "
             f"{w2['instances']:,} hosts (the W2 fleet). The host looked up is the last "
             f"instance of the fleet; a lookup must make no API request.")
    L.append(f"- **Throttled**: W1 cold against a simulator that answers `Throttling.User` at "
             f"once to any request arriving while {k['throttle']} are in flight "
             f"(`--throttle-above-inflight {k['throttle']}`), with the default "
             f"`max_concurrency`, compared with the same run configured with "
             f"`max_concurrency = {k['throttle']}` against the same simulator. \"Requests "
             f"made\" counts the throttled ones too; the check is that the requests that were "
             f"answered equal the fewest possible.")
    acc = k["accounts"]
    L.append(f"- **Accounts**: {acc['accounts']} accounts, each a fleet of {acc['regions']} regions × "
             f"{acc['per_region']} instances reached through a role the control account assumes "
             f"(`accounts` with {acc['accounts']} `role_arn` entries), against the control account "
             f"alone holding {acc['accounts'] * acc['regions'] * acc['per_region']:,} instances in its "
             f"{acc['regions']} regions; the same simulator, {acc['latency']} ms per request, regions "
             f"listed in the ini, default `max_concurrency` (8, per region). Fewest possible: "
             f"{k['fewest_one']} pages for the one account; {k['fewest_multi']} requests for the "
             f"accounts ({acc['accounts']} AssumeRole and their pages). The throttled run uses a "
             f"simulator that refuses a request arriving while {acc['throttle_above']} of the same "
             f"account are in flight (`--throttle-above-inflight` counts per account).")
    L.append("")
    L.append("## Method")
    L.append("")
    L.append(f"- Release binaries (`cargo build --release --bins`). Fleets come from "
             f"`ecs-simulator generate` (seed 1), served by `ecs-simulator serve` on 127.0.0.1; "
             f"each simulator is started once and reused, and `POST /_sim/reset` before every "
             f"run makes `GET /_sim/stats` count that run alone (requests, throttled, most in "
             f"flight).")
    L.append(f"- Every run is a whole process, started from Python with stdout on a pipe read "
             f"in 1 MiB chunks (as Ansible reads it). Wall time is from spawn to exit; CPU "
             f"(user+sys) is the process's own, from `wait4`; peak RSS is GNU time's `%M` (every "
             f"process is started through `/usr/bin/time`: `ru_maxrss` of a process forked "
             f"from Python would count Python's own memory). One warm-up run "
             f"(whose output is checked as JSON) precedes {P['runs']} measured runs of the "
             f"API-bound workloads ({P['accounts']['runs']} of the one-account and "
             f"multi-account pair), {P['short_runs']} of the millisecond ones (warm `--list`, "
             f"`cat`, `--host`, `--graph`) and {P['ansible_runs']} of `ansible-inventory "
             f"--graph`; the table shows medians (peak RSS: the largest; for "
             f"`ansible-inventory`, its Python process). Workloads "
             f"that are compared with each other are run alternately.")
    L.append("- \"CPU per 1,000 instances\" divides the run's CPU by the instances in the API's "
             "answers (the running ones); \"page bodies ÷ CPU\" divides the bytes of the "
             "successful answers' bodies (the simulator's `ok_body_bytes`) by the run's CPU: "
             "the whole run's throughput, decoding and everything after it.")
    L.append("- \"Wall in round trips\" is the median wall time divided by the simulated latency "
             "of one request: a lower bound is the number of sequential waves of requests, "
             "the rest is process start, JSON decoding, output and the cache write.")
    L.append("- `bash bench/run.sh --smoke` uses small fleets and 2 runs and exits non-zero when "
             "a basic check fails (a run fails, invalid JSON, requests ≠ fewest possible, a "
             "warm run or `--host` calling the API); timing targets never fail it.")
    L.append("")
    # Everything from the marker on is written by hand (findings, analysis) and kept as it is.
    kept = ""
    try:
        with open(a.doc, encoding="utf-8") as f:
            old = f.read()
        if KEEP_MARKER in old:
            kept = old[old.index(KEEP_MARKER):]
    except OSError:
        pass
    if not kept:
        kept = KEEP_MARKER + "\n\n## Findings\n\n(none written yet)\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.doc)), exist_ok=True)
    with open(a.doc + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n" + kept)
    os.replace(a.doc + ".tmp", a.doc)


# The CPU of W1 and W2 cold before the decoder was rewritten, on the full-size fleet.
BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline.json")


def read_baseline(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


KEEP_MARKER = "<!-- Written by hand below this line; bench/run.sh keeps it. -->"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
        log("CHECK FAILED:", e)
        sys.exit(1)
