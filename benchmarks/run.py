"""Benchmark: the compact ledger with the plugin against the same ledger expanded.

    python benchmarks/run.py                 # N = 10k and 100k directives, 3 runs each
    python benchmarks/run.py --sizes 20000 --runs 5
    python benchmarks/run.py --fava          # also time Fava's pages on the largest ledger
    python benchmarks/run.py --smoke         # tiny, once: checks it all works (used by tests)

Each load runs in its own process (bean-check's cache disabled), runs are alternated and
medians are reported. The figures and targets are explained in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

PYTHON = sys.executable

# Runs in a child process: load one ledger, report wall time, plugin time, peak memory.
CHILD = r"""
import json, os, resource, sys, time
os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"
import beancount_backflush
from beancount import loader
from beancount.core import data
spent = []
generated = []
original = beancount_backflush.backflush
def timed(entries, options_map, config=None):
    start = time.perf_counter()
    result = original(entries, options_map, config)
    spent.append(time.perf_counter() - start)
    generated.append(sum(len(e.postings) for e in result[0]
                         if isinstance(e, data.Transaction) and "backflush" in e.meta))
    return result
beancount_backflush.backflush = timed
start = time.perf_counter()
entries, errors, options = loader.load_file(sys.argv[1])
wall = time.perf_counter() - start
units = {}
for entry in entries:
    if isinstance(entry, data.Transaction):
        for p in entry.postings:
            key = f"{p.account} {p.units.currency}"
            units[key] = units.get(key, 0) + p.units.number
units = {key: str(value) for key, value in units.items() if value}
print(json.dumps({"wall": wall, "plugin": spent[0] if spent else 0.0,
                  "postings": generated[0] if generated else 0,
                  "errors": [e.message[:200] for e in errors[:5]], "n_errors": len(errors),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "units": units}))
"""

FAVA_CHILD = r"""
import json, os, statistics, sys, time
from fava.application import create_app
app = create_app([sys.argv[1]], load=True)
client = app.test_client()
slug = list(app.config["LEDGERS"].ledgers_by_slug)[0]
pages = {"balance_sheet": f"/{slug}/api/balance_sheet",
         "inventory": f"/{slug}/extension/BackflushInventory/",
         "variances": f"/{slug}/extension/BackflushVariances/"}
result = {}
for name, url in pages.items():
    start = time.perf_counter()
    client.get(url)  # cold: the first request computes what is cached per load
    cold = time.perf_counter() - start
    times, status = [], None
    for _ in range(int(sys.argv[2])):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        status = response.status_code
    result[name] = {"median": statistics.median(times), "cold": cold, "status": status}
print(json.dumps(result))
"""


def load_in_child(path: Path) -> dict:
    out = subprocess.run([PYTHON, "-c", CHILD, str(path)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(n: int, folder: Path) -> dict[str, Path]:
    ledger, standards = generate(n)
    compact = folder / "ledger.beancount"
    compact.write_text(ledger)
    (folder / "standards.yaml").write_text(standards)
    plain = folder / "no-plugin.beancount"
    plain.write_text("".join(line for line in ledger.splitlines(keepends=True)
                             if not line.startswith("plugin ")))
    expanded = folder / "expanded.beancount"
    cli = Path(PYTHON).with_name("bean-backflush")
    with expanded.open("w") as out:
        subprocess.run([str(cli), "expand", str(compact)], stdout=out, check=True)
    return {"compact": compact, "expanded": expanded, "no-plugin": plain}


def measure(paths: dict[str, Path], runs: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {name: [] for name in paths}
    for _ in range(runs):
        for name, path in paths.items():  # alternated: one of each per round
            results[name].append(load_in_child(path))
    return results


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(n: int, results: dict[str, list[dict]]) -> dict[str, float]:
    compact, expanded, plain = (results[k] for k in ("compact", "expanded", "no-plugin"))
    c, e, p = median(compact, "wall"), median(expanded, "wall"), median(plain, "wall")
    plugin = median(compact, "plugin")
    postings = compact[0]["postings"]
    mem_c, mem_e = median(compact, "rss_mb"), median(expanded, "rss_mb")
    print(f"\nN = {n:,} directives ({postings:,} generated postings)")
    print(f"  load, compact ledger + plugin      {c:8.3f} s   peak {mem_c:7.1f} MB")
    print(f"  load, expanded ledger, no plugin   {e:8.3f} s   peak {mem_e:7.1f} MB")
    print(f"  load, compact, plugin line removed {p:8.3f} s")
    print(f"  inside the plugin function         {plugin:8.3f} s"
          f"   {plugin / postings * 1e6:6.2f} us per generated posting")
    print(f"  compact / expanded                 {c / e:8.2f}     target <= 0.40  "
          f"{verdict(c / e <= 0.40)}")
    print(f"  plugin share of the compact load   {plugin / c:8.1%}     target <= 30 %  "
          f"{verdict(plugin / c <= 0.30)}")
    print(f"  peak memory compact / expanded     {mem_c / mem_e:8.2f}     target <= 1.00  "
          f"{verdict(mem_c <= mem_e)}")
    return {"plugin": plugin, "postings": postings}


def check_functional(results: dict[str, list[dict]]) -> list[str]:
    problems = []
    for name, runs in results.items():
        if runs[0]["n_errors"]:
            problems.append(f"{name}: {runs[0]['n_errors']} errors: {runs[0]['errors']}")
    if results["compact"][0]["units"] != results["expanded"][0]["units"]:
        problems.append("expanded ledger's units differ from the compact ledger's")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fava", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated ledgers in")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.runs = [300], 1
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    problems: list[str] = []
    plugin_times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for n in args.sizes:
            folder = root / f"n{n}"
            folder.mkdir(parents=True, exist_ok=True)
            paths = prepare(n, folder)
            results = measure(paths, args.runs)
            problems += check_functional(results)
            figures = report(n, results)
            plugin_times[n] = figures["plugin"]
        if len(plugin_times) >= 2:
            small, large = min(plugin_times), max(plugin_times)
            ratio = plugin_times[large] / plugin_times[small]
            print(f"\nlinearity: plugin time {large:,} / {small:,} = {ratio:.2f}  "
                  f"(size ratio {large / small:.0f}; target <= {1.1 * large / small:.0f})  "
                  f"{verdict(ratio <= 1.1 * large / small)}")
        if args.fava:
            largest = root / f"n{max(args.sizes)}" / "ledger.beancount"
            out = subprocess.run([PYTHON, "-c", FAVA_CHILD, str(largest), str(args.runs)],
                                 capture_output=True, text=True, check=True)
            pages = json.loads(out.stdout.strip().splitlines()[-1])
            base = pages["balance_sheet"]["median"]
            print(f"\nFava on N = {max(args.sizes):,}: balance sheet data (/api/balance_sheet)"
                  f" {base:.3f} s, first request {pages['balance_sheet']['cold']:.3f} s")
            for name in ("inventory", "variances"):
                page = pages[name]
                if page["status"] != 200:
                    print(f"  {name:<10} HTTP {page['status']}  FAIL")
                    continue
                print(f"  {name:<10} {page['median']:.3f} s  ratio {page['median'] / base:.2f}"
                      f"  target <= 1.5  {verdict(page['median'] <= 1.5 * base)}"
                      f"   (first request, computing the report: {page['cold']:.3f} s)")
    for problem in problems:
        print(f"FUNCTIONAL FAILURE: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
