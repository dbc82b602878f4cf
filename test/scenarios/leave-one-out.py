#!/usr/bin/env python3
"""Leave-one-mode-out scoring of Guardian on its own suite of failure modes (modes.py).

  python3 test/scenarios/leave-one-out.py [--suite DIR] [--variants N] [--jobs N] [--json]
        [--param NAME=v1,v2 ...] [--keep DIR]

Generates the suite (modes.py) unless --suite names one, replays every scenario through the real
pipeline (`npx guardian replay --dir … --out-dir … --score`), scores each export with
../shared/scenarios/score.py and prints the figures per mode and in total.

With --param, each named environment variable is a parameter of Guardian and each combination
of its values is replayed; then for every mode the combination that scores best on the *other*
modes is chosen, and that mode is scored with it: the leave-one-mode-out figures, which are what
to report. Without --param nothing is chosen, and the figures are leave-one-out by construction.

With --keep DIR the exports are kept under DIR (one folder per combination, `0`, `1`, …) to read
why an incident split or was rooted where it was; without it they are deleted.
"""
import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCORER = os.path.join(ROOT, "..", "shared", "scenarios", "score.py")
sys.path.insert(0, os.path.dirname(SCORER))
import score  # noqa: E402  (the shared scorer, imported to total rows across modes)


def mode_of(name):
    return name.split("--")[0]


def replay(suite, out, env, jobs):
    """Replays every scenario of `suite` into `out`, in `jobs` processes."""
    names = sorted(n for n in os.listdir(suite) if n.endswith(".json"))
    shards = [names[i::jobs] for i in range(jobs)]
    procs = []
    tmp = tempfile.mkdtemp(prefix="guardian-loo-")
    try:
        for i, shard in enumerate(shards):
            if not shard:
                continue
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            for n in shard:
                os.symlink(os.path.join(os.path.abspath(suite), n), os.path.join(d, n))
            procs.append(subprocess.Popen(["npx", "guardian", "replay", "--dir", d, "--out-dir", out, "--score"],
                                          cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
        for p in procs:
            _, err = p.communicate()
            if p.returncode != 0:
                sys.exit(f"replay failed ({p.returncode}): {err[-2000:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def score_rows(suite, out):
    """score.py's per-scenario rows, by mode."""
    rows = {}
    for n in sorted(os.listdir(suite)):
        if not n.endswith(".json"):
            continue
        sc = score.load(os.path.join(suite, n))
        ex = os.path.join(out, n)
        export = score.load(ex) if os.path.exists(ex) else {"incidents": []}
        rows.setdefault(mode_of(n[:-5]), []).append(score.score_one(sc, export))
    return rows


def calibration(suite, out):
    """By mode, (right, confidence) of every notified incident's root cause: right when it is a cause
    of the truth incident the incident shares most entities with (an incident of nothing true is wrong)."""
    res = {}
    for n in sorted(os.listdir(suite)):
        ex = os.path.join(out, n)
        if not n.endswith(".json") or not os.path.exists(ex):
            continue
        truth = score.load(os.path.join(suite, n))["truth"]["incidents"]
        for g in score.load(ex).get("incidents", []):
            rc = g.get("root_cause") or {}
            if not score.posts(g) or "confidence" not in rc:
                continue
            names = set(g.get("entities", []))
            best = max(truth, key=lambda t: len(names & set(t["entities"])), default=None)
            ok = bool(best and names & set(best["entities"]) and rc.get("entity") in best["root_cause_any_of"])
            res.setdefault(mode_of(n[:-5]), []).append((ok, rc["confidence"]))
    return res


def objective(total):
    """One number to choose a combination by: grouping and root cause, less what pages wrongly."""
    posts = total["posts_per_incident"] or 1
    return (total["grouping_f1"] + total["root_cause"] + total["detected"] - 0.5 * max(0.0, posts - 1)
            - 0.2 * total["false_alerts"] - 0.2 * total["quiet_paged"])


def line(name, t):
    tta = t["time_to_alert_median_s"]
    return (f"{name:<28} n {t['truth_incidents']:>2}  detected {t['detected']:.2f}  F1 {t['grouping_f1']:.3f}  "
            f"RC {t['root_cause']:.2f}  posts/inc {t['posts_per_incident']:.2f}  false {t['false_alerts']}  "
            f"quiet {t['quiet_paged']}  TTA median {'-' if tta is None else f'{tta:.0f}'} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite")
    ap.add_argument("--variants", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", help="keep the exports under this folder, one subfolder per combination")
    a = ap.parse_args()
    suite = a.suite
    if not suite:
        suite = tempfile.mkdtemp(prefix="guardian-suite-")
        subprocess.run([sys.executable, os.path.join(HERE, "modes.py"), "--out", suite, "--variants", str(a.variants)],
                       check=True, stdout=subprocess.DEVNULL)
    grid = [[(k, v) for v in vals.split(",")] for k, vals in (p.split("=", 1) for p in a.param)]
    combos = [dict(c) for c in itertools.product(*grid)] if grid else [{}]
    by_combo, by_cal = [], []
    for i, env in enumerate(combos):
        if a.keep:
            out = os.path.join(a.keep, str(i))
            os.makedirs(out, exist_ok=True)
        else:
            out = tempfile.mkdtemp(prefix="guardian-exports-")
        replay(suite, out, env, a.jobs)
        by_combo.append(score_rows(suite, out))
        by_cal.append(calibration(suite, out))
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)
    modes = sorted(by_combo[0])
    chosen, held, cal = {}, [], []
    for m in modes:
        best = max(range(len(combos)), key=lambda i: (objective(score.summarise(
            [r for o in modes if o != m for r in by_combo[i][o]])), -i))
        chosen[m] = combos[best]
        held.append((m, score.summarise(by_combo[best][m]), by_combo[best][m]))
        cal += by_cal[best].get(m, [])
    total = score.summarise([r for _, _, rows in held for r in rows])
    if a.json:
        print(json.dumps({"modes": {m: t for m, t, _ in held}, "total": total, "chosen": chosen,
                          "calibration": cal}, indent=1))
        return
    print("leave-one-mode-out (each mode scored with the parameters chosen on the others):")
    for m, t, _ in held:
        print(line(m, t) + (f"  params {chosen[m]}" if chosen[m] else ""))
    print(line("TOTAL", total))
    times = [x for _, _, rows in held for r in rows for x in r["times_to_alert_s"]]
    if times:
        print(f"time to alert: median {statistics.median(times):.0f} s, max {max(times):.0f} s over {len(times)} incidents")
    sure = [ok for ok, conf in cal if conf >= 0.8]
    if sure:
        print(f"root causes given at confidence >= 0.8: {sum(sure)}/{len(sure)} right ({sum(sure) / len(sure):.2f})")
    if len(combos) > 1:
        for i, env in enumerate(combos):
            t = score.summarise([r for m in modes for r in by_combo[i][m]])
            print(line("all modes " + " ".join(f"{k}={v}" for k, v in env.items()), t))


if __name__ == "__main__":
    main()
