"""``mubench``: the command line. Exit 0 ok, 1 a run with failed cells, 2 bad input.

Importing this module imports no torch: ``mubench plugins``, ``list`` and ``validate`` answer in about
a second. Commands that compute (``run``, ``splits``) import the heavy modules inside.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import ConfigError

KIND_NAMES = ("tasks", "models", "unlearners", "metrics", "executors")


class BadInput(Exception):
    """A user error: printed as one line, exit status 2."""


def _registry():
    from .plugins import load_registry

    return load_registry()


def cmd_plugins(ns) -> int:
    reg = _registry()
    rows = []
    for p in reg.plugins:
        provided = {kind: sorted(n for n, (_, info) in reg.components.get(kind, {}).items() if info is p) for kind in KIND_NAMES}
        rows.append({"name": p.name, "distribution": p.distribution, "version": p.version, "module": p.module,
                     "error": p.error, **{k: v for k, v in provided.items()}})
    conflicts = [{"kind": kind, "name": name, "distributions": [f"{p.distribution} ({p.name})" for p in who]}
                 for (kind, name), who in sorted(reg.conflicts.items())]
    if ns.json:
        print(json.dumps({"plugins": rows, "conflicts": conflicts}, indent=2))
        return 0
    from tabulate import tabulate

    table = [[r["name"], r["distribution"], r["version"],
              ", ".join(f"{k}: {' '.join(r[k])}" for k in KIND_NAMES if r[k]) or "-",
              ("BROKEN: " + r["error"]) if r["error"] else "ok"] for r in rows]
    print(tabulate(table, headers=["plugin", "distribution", "version", "provides", "status"]))
    for c in conflicts:
        print(f"conflict: {c['kind'][:-1]} {c['name']!r} is registered by {' and '.join(c['distributions'])}")
    return 0


def cmd_list(ns) -> int:
    reg = _registry()
    items = []
    for spec in reg.specs(ns.kind):
        info = reg.provider(ns.kind, spec.name)
        items.append({**spec.describe(), "plugin": info.name, "distribution": info.distribution})
    if reg.broken:  # on stderr so that --json output stays parseable
        print(f"{len(reg.broken)} plugin(s) failed to load; see `mubench plugins`", file=sys.stderr)
    if ns.json:
        print(json.dumps(items, indent=2, default=str))
        return 0
    from tabulate import tabulate

    print(tabulate([[i["name"], i["plugin"], i["summary"]] for i in items], headers=["name", "plugin", "summary"]))
    return 0


def cmd_validate(ns) -> int:
    from .config import validate

    v = validate(ns.file)
    if ns.data:  # the local downloads must be there now: the first missing one is the located error
        from .preflight import check_downloads

        check_downloads(v)
    from .runner import expand_grid

    cells = expand_grid(v)
    print(f"{ns.file}: ok: {len(cells)} cells ({sum(c.kind == 'unlearned' for c in cells)} unlearning, "
          f"{sum(c.kind == 'retrain' for c in cells)} retraining, {sum(c.kind == 'original' for c in cells)} original-model rows)")
    for task, label in v.skipped:
        print(f"note: {label} does not apply to task {task}; that pair is left out of the grid")
    for task, model, scale in v.given:
        members = task in v.registry.get("models", model).given_members
        print(f"note: {model}:{scale} on {task} is the original as given (not trained here): retraining does not "
              f"apply; methods get one epoch of the task recipe as budget and RMIA is n/a"
              + ("" if members else f"; it was not trained on {task}'s training set, so membership attacks and "
                 f"the knowledge gap are n/a too"))
    from .release import paper_mode_notes

    for line in paper_mode_notes(v):
        print(f"note: {line}")
    from .preflight import missing_downloads

    for _, task, field, path, origin in missing_downloads(v):  # on stderr: stdout stays the verdict
        print(f"needs local download: {path} for {task} ({field}; from {origin})", file=sys.stderr)
    return 0


def cmd_run(ns) -> int:
    from .config import validate
    from .runner import run_benchmark

    from .config import DeviceUnavailable
    from .runner import RunInProgress
    from .store import BadDatabase

    v = validate(ns.file)  # both phases before anything is created
    from .distributed import is_main, world_size

    if ns.nproc < 1:
        raise BadInput(f"--nproc {ns.nproc}: at least one rank")
    if ns.executor is not None:
        from .plugins import PluginError

        try:
            v.registry.get("executors", ns.executor)
        except PluginError as exc:
            raise BadInput(f"--executor {ns.executor}: {exc}") from None
    if ns.launcher:  # every rank runs this same command (validated: bad input never starts a rank)
        from .distributed.launch import relaunch

        relaunch(ns.launcher, ns.nproc, sys.argv[1:] if ns.argv is None else ns.argv)
    try:
        summary = run_benchmark(v, ns.output_dir, progress=None if not ns.no_progress else False,
                                executor_name=ns.executor)
        if world_size() > 1:
            from .distributed.ranks import shutdown

            shutdown()
    except (DeviceUnavailable, RunInProgress) as exc:
        raise BadInput(f"{ns.file}: {exc}") from None
    except BadDatabase as exc:  # names the database file itself
        raise BadInput(str(exc)) from None
    if not is_main():  # rank 0 reports for every rank
        return summary.exit_code
    if summary.ran == 0:
        print(f"{summary.output_dir}: all {summary.cells} cells already done; nothing to run", file=sys.stderr)
    else:
        print(f"{summary.output_dir}: ran {summary.ran} of {summary.cells} cells", file=sys.stderr)
    from .report import load_results, render

    data = load_results(summary.output_dir, keys=summary.keys)
    present = {n for c in data.cells for n in c["metrics"]}
    print(render(data, "github", [m for m in HEADLINE if m in present] or None))
    print(f"every metric, with formulas: mubench report {summary.output_dir}", file=sys.stderr)
    if summary.failed:
        print(f"{len(summary.failed)} cell(s) failed; their tracebacks are in {summary.output_dir / 'results.db'} (cells.error):",
              file=sys.stderr)
        for key in summary.failed[:20]:
            print(f"  {key}", file=sys.stderr)
    return summary.exit_code


#: the columns `mubench run` prints when it finishes (`mubench report` shows every metric)
HEADLINE = ("test/score", "forget/score", "retain/score", "forget/chance", "forget/original_score",
            "overall/score", "time/seconds_vs_retrain")


def cmd_report(ns) -> int:
    from .report import load_results, render, select_metrics

    if ns.compare:
        from .report.compare import compare, compare_table

        a, b = ns.compare
        try:
            rows = compare(ns.dir, a, b)
        except (FileNotFoundError, ValueError) as exc:
            raise BadInput(str(exc)) from None
        fmt = {"github": "github", "markdown": "pipe", "latex": "latex_booktabs"}.get(ns.format, "github")
        print(compare_table(rows, a, b, tablefmt=fmt))
        return 0
    if ns.analysis:
        from .report.analyses import render_analysis, write_analysis_plots

        fmt = {"github": "github", "markdown": "pipe", "latex": "latex_booktabs"}.get(ns.format, "github")
        try:
            data = load_results(ns.dir)
            print(render_analysis(data, ns.analysis, tolerance=ns.tolerance, tablefmt=fmt))
            if ns.plots:
                written = write_analysis_plots(data, ns.analysis, ns.plots, tolerance=ns.tolerance)
                print(f"{len(written)} plot files in {ns.plots}", file=sys.stderr)
        except (FileNotFoundError, ValueError) as exc:
            raise BadInput(f"{ns.dir}: {exc}") from None
        return 0
    try:
        data = load_results(ns.dir)
        metrics = select_metrics(data, ns.metrics) if ns.metrics else None
    except (FileNotFoundError, ValueError) as exc:
        raise BadInput(f"{ns.dir}: {exc}" if ns.metrics else str(exc)) from None
    print(render(data, ns.format, metrics))
    if ns.plots:
        from .report.plots import write_plots

        written = write_plots(data, ns.plots)
        print(f"{sum(len(v) for v in written.values())} plot files in {ns.plots}", file=sys.stderr)
    if ns.format in ("github", "markdown"):
        from .stats import interval_rule

        print(f"\n± is the standard deviation over seeds; {interval_rule()} (`--format json`).")
        # every report states how its numbers are defined (the specs carry formulas; no metric import)
        from .plugins import load_registry

        print("\nFormulas:")
        for spec in load_registry().specs("metrics"):
            shown = metrics is None or any(m in spec.values or m.startswith(f"{spec.name}/") for m in metrics)
            if spec.formula and shown:
                print(f"- {spec.name} ({spec.direction}): {spec.formula}")
    return 0


def cmd_leaderboard(ns) -> int:
    from .report import load_results
    from .report.leaderboard import write_site

    try:
        datas = [load_results(d) for d in ns.dirs]
    except (FileNotFoundError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    print(f"leaderboard: {write_site(datas, ns.out)}")
    return 0


def cmd_splits(ns) -> int:
    from .plugins import PluginError
    from .splits import check_ratio, deletion_order, forget_indices, mubench_txt

    reg = _registry()
    try:
        spec = reg.get("tasks", ns.task)
        if ns.format == "positions" or ns.ratio is not None:
            check_ratio(ns.ratio)
    except (PluginError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    if ns.source not in spec.sources:
        raise BadInput(f"task {ns.task!r} has no {ns.source!r} source (it has: {', '.join(spec.sources)})")
    task = spec.load()(spec.args())
    train = task.load(ns.source)["train"]
    col = task.stratify_column
    strata = list(train[col]) if col and col in train.column_names else None
    if ns.format == "mubench-txt":  # the authors' layout: 10 % in deletion order, k % = the first k-tenths
        text = mubench_txt(deletion_order(len(train), ns.seed, strata), len(train))
    else:
        text = "\n".join(str(int(i)) for i in forget_indices(len(train), ns.ratio, ns.seed, strata)) + "\n"
    if ns.out:
        Path(ns.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_plan(ns) -> int:
    from .config import parse_structure
    from .plan import plan, render
    from .plugins import PluginError

    bench, doc = parse_structure(ns.file)  # structure only: local data and weights need not be there yet
    if ns.tflops <= 0 or not 0 < ns.mfu <= 1:
        raise BadInput(f"--tflops must be > 0 and --mfu in (0, 1], got {ns.tflops} and {ns.mfu}")
    try:
        rows = plan(bench, _registry(), Path(doc.file).resolve().parent)
    except (PluginError, ValueError) as exc:
        raise BadInput(f"{ns.file}: {exc}") from None
    print(render(rows, ns.tflops, ns.mfu))
    return 0


def cmd_new_plugin(ns) -> int:
    from .scaffold import create

    try:
        print(create(ns.name, Path(ns.plugins_dir)))
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        raise BadInput(str(exc)) from None
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mubench", description="MU-Bench as software: a plugin-based machine unlearning benchmark.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("plugins", help="installed plugins, what each provides, and load errors")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_plugins)

    s = sub.add_parser("list", help="installed tasks, models, unlearners or metrics")
    s.add_argument("kind", choices=KIND_NAMES)
    s.add_argument("--json", action="store_true", help="a JSON list of objects (name, plugin, summary, ...)")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("validate", help="check a benchmark file (structure, then against the installed plugins)")
    s.add_argument("file")
    s.add_argument("--data", action="store_true",
                   help="local downloads the file names must be on disk (without: missing ones are listed)")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("run", help="run a benchmark (finished cells are skipped)")
    s.add_argument("file")
    s.add_argument("--output-dir", help="overrides the file's output_dir")
    s.add_argument("--no-progress", action="store_true", help="no progress bars")
    s.add_argument("--launcher", choices=("torchrun", "accelerate"),
                   help="run the cell across --nproc ranks started by this launcher (the distributed: block says how)")
    s.add_argument("--nproc", type=int, default=2, help="ranks to start with --launcher (default 2)")
    s.add_argument("--executor", metavar="NAME",
                   help="where the cells run (local, ray, ...); overrides the file's executor: block")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("report", help="a table of a run folder's results, mean ± std over seeds")
    s.add_argument("dir")
    s.add_argument("--format", default="github", choices=("github", "markdown", "latex", "csv", "json"))
    s.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="paired tests (t and Wilcoxon) of method A vs B over matching seeds and cells")
    s.add_argument("--metrics", nargs="+", metavar="PATTERN",
                   help="only these values, in this order; shell patterns, e.g. test/score 'forget/*score'")
    s.add_argument("--plots", metavar="OUT", help="also write figures (PNG and SVG) per task × model into OUT")
    from .report.analyses import ANALYSES

    s.add_argument("--analysis", choices=tuple(ANALYSES),
                   help="an analysis instead of the table (README, Analyses): "
                        # argparse %-formats help: an analysis's "50 %" must not be read as a format
                        + "; ".join(f"{a.name} = {a.help}" for a in ANALYSES.values()).replace("%", "%%"))
    s.add_argument("--tolerance", type=float, default=0.05,
                   help="--analysis capacity: largest test-score drop below the original's that still counts; "
                        "robustness: how much more than retraining's an attack may give back; peft: how far above full "
                        "fine-tuning's Df score a LoRA fraction still unlearns as it; curriculum: the Df gap that counts "
                        "as a change (default 0.05)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("leaderboard", help="a static leaderboard site (and leaderboard.json) over run folders")
    s.add_argument("dirs", nargs="+", metavar="DIR")
    s.add_argument("--out", required=True, help="the site's folder (open OUT/index.html)")
    s.set_defaults(func=cmd_leaderboard)

    s = sub.add_parser("splits", help="the standardized deletion set (training-set positions of Df)")
    s.add_argument("task")
    s.add_argument("--ratio", type=int, help="whole percent 1..10 (needed by --format positions)")
    s.add_argument("--format", default="positions", choices=("positions", "mubench-txt"),
                   help="positions: Df at --ratio, sorted; mubench-txt: the MU-Bench authors' df/<task>.txt layout "
                        "(10 %% in deletion order, one index a line; a k %% run reads the first k-tenths)")
    s.add_argument("--seed", type=int, default=42, help="the split seed (default 42)")
    s.add_argument("--source", default="mini", choices=("mini", "hub"))
    s.add_argument("--out", help="write the indices to this file instead of printing them")
    s.set_defaults(func=cmd_splits)

    s = sub.add_parser("plan", help="per (task, family, scale): recipe, dataset sizes, cells and a compute estimate "
                                    "(no weights or data downloaded)")
    s.add_argument("file")
    s.add_argument("--tflops", type=float, default=312.0, help="peak TFLOP/s of one GPU (default 312: A100 bf16)")
    s.add_argument("--mfu", type=float, default=0.4, help="share of the peak a run reaches (default 0.4)")
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("new-plugin", help="create plugins/mubench-plugin-NAME from the template")
    s.add_argument("name")
    s.add_argument("--plugins-dir", default="plugins")
    s.set_defaults(func=cmd_new_plugin)
    return p


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)  # argparse exits 2 on bad usage
    ns.argv = argv  # what a launcher re-runs on each rank (None: this process's own arguments)
    try:
        return ns.func(ns)
    except (ConfigError, BadInput) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mubench report DIR | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to finish the remaining cells", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
