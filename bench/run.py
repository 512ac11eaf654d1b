"""aimgen's performance, measured side by side with its floors in one run (`make bench`).

    python bench/run.py [--sizes 10000] [--repeat 5] [--jobs N] [--dir DIR] [--verify]

For each size it generates a realistic tree of N services (bench/generate.py) and times, each as its own
process, with the peak resident memory of the process tree's largest process:
- cold build (no rendered/, no cache)           vs the naive pipeline (C-load the inputs, C-dump the same
                                                   objects, write as many files): target <= 0.6x;
- no-op rebuild                                  vs the no-op floor (hash every input, stat every output): <= 1.5x;
- rebuild after changing one service             vs the no-op rebuild: <= 1.3x (and only its files rewritten);
- `aimgen build --check` with nothing changed    vs the no-op rebuild: <= 1.5x;
- `aimgen --help`                                vs a bare interpreter start: <= 8x;
- peak memory of any aimgen process: < 200 MiB.
Repeated figures are interleaved with their floors and reported as medians (min in brackets); other processes
on the machine add noise. `--verify` also checks that the build equals a `--jobs 1` build from scratch.
"""

from __future__ import annotations

import argparse
import marshal
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

FLOORS = str(Path(__file__).resolve().parent / "floors.py")
MIB = 1024 * 1024


@dataclass
class Run:
    seconds: float
    peak_mib: float
    code: int
    stdout: str
    stderr: str


def run(cmd: list[str]) -> Run:
    """One process, timed from fork to exit; its peak RSS is that of its largest process (wait4 reports the
    largest of the process and the descendants it waited for)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(seconds, usage.ru_maxrss * 1024 / MIB, proc.returncode, out.read().decode(errors="replace"),
                   err.read().decode(errors="replace"))


def aimgen() -> list[str]:
    script = Path(sys.executable).with_name("aimgen")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aimgen"]


@dataclass
class Figures:
    services: int
    values: dict[str, list[float]] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, result: Run) -> None:
        self.values.setdefault(name, []).append(result.seconds)
        self.peaks[name] = max(self.peaks.get(name, 0.0), result.peak_mib)

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])


def generate_tree(root: str, services: str) -> int:
    return len(generate(Path(root), int(services)))


def rendered_objects(rendered: Path | str, out: Path | str) -> int:
    """What the naive pipeline dumps: every object aimgen wrote (path, value), as a marshal file."""
    items = []
    rendered = Path(rendered)
    for path in sorted(rendered.rglob("*.yaml")):
        rel = path.relative_to(rendered).as_posix()
        if not rel.startswith("_gitops/"):
            items.append((rel, yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)))
    Path(out).write_bytes(marshal.dumps(items))
    return len(items)


def in_subprocess(function: str, *args: str) -> str:
    """Run one of this module's functions in a child process: the benchmark process stays small, and so do the
    processes it starts (a vfork'ed child reports its parent's peak RSS as its own)."""
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import run; print(run.{function}(*sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout

def stats(rendered: Path) -> dict[str, int]:
    return {p.relative_to(rendered).as_posix(): p.stat().st_mtime_ns for p in rendered.rglob("*") if p.is_file()}


def changed_service(root: Path) -> tuple[Path, str]:
    """A service file of the largest overlay with one service of fixed replicas (the change toggles them)."""
    for path in sorted((root / "overlays" / "prod-eu" / "services").rglob("*.yaml")):
        text = path.read_text()
        if text.count("kind: AIMService") == 1 and re.search(r"(?m)^  replicas: \d+$", text):
            return path, re.search(r"(?m)^  name: (\S+)$", text).group(1)  # type: ignore[union-attr]
    raise SystemExit("no service with fixed replicas to change")


def toggle_replicas(path: Path) -> None:
    path.write_text(re.sub(r"(?m)^  replicas: (\d+)$", lambda m: f"  replicas: {int(m.group(1)) % 4 + 1}",
                           path.read_text(), count=1))


def measure(services: int, base: Path, repeat: int, jobs: list[str], verify: bool) -> Figures:
    root = base / f"tree-{services}"
    shutil.rmtree(root, ignore_errors=True)
    in_subprocess("generate_tree", str(root), str(services))
    rendered, work = root / "rendered", base / f"work-{services}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    build = [*aimgen(), "build", "--root", str(root), *jobs]
    fig = Figures(services)

    # cold build vs naive pipeline, twice, alternating (each writes into a directory just removed)
    for i in range(2):
        shutil.rmtree(rendered, ignore_errors=True)
        shutil.rmtree(root / ".aimgen-cache", ignore_errors=True)
        cold = run(build)
        if cold.code not in (0,):
            raise SystemExit(f"cold build failed ({cold.code}):\n{cold.stderr[-2000:]}")
        fig.add("cold", cold)
        if i == 0:
            count = int(in_subprocess("rendered_objects", str(rendered), str(work / "objects.marshal")))
            fig.notes.append(f"{count} files rendered ({cold.stderr.strip().splitlines()[-1]})")
        out = work / "naive-out"
        shutil.rmtree(out, ignore_errors=True)
        naive = run([sys.executable, FLOORS, "naive", str(root), str(work / "objects.marshal"), str(out)])
        naive.seconds -= float(naive.stdout)  # reading the objects stands for compiling them: not counted
        fig.add("naive", naive)

    # no-op, --check, one change: interleaved with the no-op floor
    target, name = changed_service(root)
    for _ in range(repeat):
        fig.add("noop-floor", run([sys.executable, FLOORS, "noop", str(root)]))
        fig.add("noop", run(build))
        fig.add("check", run([*build, "--check"]))
        before = stats(rendered)
        toggle_replicas(target)
        change = run(build)
        fig.add("change", change)
        rewritten = [p for p, m in stats(rendered).items() if before.get(p) != m]
        if any(name not in p for p in rewritten) or not rewritten:
            fig.notes.append(f"one change rewrote {rewritten} (expected only files of {name})")
    fig.notes.append(f"one change: {target.relative_to(root)} (replicas), rewrote only its files"
                     if not any(n.startswith("one change rewrote") for n in fig.notes) else "")
    for _ in range(repeat):
        fig.add("bare", run([sys.executable, "-c", "pass"]))
        fig.add("help", run([*aimgen(), "--help"]))
    if verify:
        fig.notes.append(verify_clean(root, base, services))
    return fig


def verify_clean(root: Path, base: Path, services: int) -> str:
    """The tree's rendered/ against a --jobs 1 build of a copy with no cache and no rendered/."""
    copy = base / f"verify-{services}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".aimgen-cache", "rendered"))
    result = run([*aimgen(), "build", "--root", str(copy), "--jobs", "1"])
    ours = {p.relative_to(root / "rendered"): p.read_bytes() for p in (root / "rendered").rglob("*") if p.is_file()}
    theirs = {p.relative_to(copy / "rendered"): p.read_bytes() for p in (copy / "rendered").rglob("*") if p.is_file()}
    same = ours == theirs and result.code == 0
    shutil.rmtree(copy, ignore_errors=True)
    return f"byte-identical to a clean --jobs 1 build: {'yes' if same else 'NO'} ({len(ours)} files)"


ROWS = [  # figure, reference, target ratio
    ("cold", "naive", 0.6),
    ("noop", "noop-floor", 1.5),
    ("change", "noop", 1.3),
    ("check", "noop", 1.5),
    ("help", "bare", 8.0),
]


def report(fig: Figures) -> bool:
    ok = True
    print(f"\n== {fig.services} services ==")
    print(f"{'figure':<8} {'seconds':>16} {'reference':>24} {'ratio':>6} {'target':>7}")
    for name, ref, target in ROWS:
        ratio = fig.median(name) / fig.median(ref)
        ok &= ratio <= target
        print(f"{name:<8} {fig.median(name):8.3f} [{min(fig.values[name]):5.3f}] "
              f"{ref:>11} {fig.median(ref):7.3f} {ratio:6.2f} {'<=' if ratio <= target else '> '}{target:<4} "
              f"{'ok' if ratio <= target else 'MISSED'}")
    peak = max(v for k, v in fig.peaks.items() if k in ("cold", "noop", "check", "change"))
    ok &= peak < 200
    print(f"peak memory of any aimgen process: {peak:.0f} MiB (cold {fig.peaks['cold']:.0f}, no-op "
          f"{fig.peaks['noop']:.0f}, change {fig.peaks['change']:.0f}) {'< 200 ok' if peak < 200 else '>= 200 MISSED'}")
    for note in filter(None, fig.notes):
        print(f"- {note}")
    return ok


def growth(figs: list[Figures]) -> None:
    print("\n== growth (microseconds per service) ==")
    names = ("cold", "naive", "noop", "noop-floor", "change", "check")
    print(f"{'services':>9} " + " ".join(f"{n:>10}" for n in names))
    for fig in figs:
        print(f"{fig.services:>9} " + " ".join(f"{fig.median(n) / fig.services * 1e6:10.0f}" for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated numbers of services (default 10000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each repeated figure (default 5)")
    parser.add_argument("--jobs", type=int, default=None, help="passed to aimgen build --jobs")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "aimgen-bench")
    parser.add_argument("--verify", action="store_true", help="compare with a clean --jobs 1 build")
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    print(f"aimgen bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"python {sys.version.split()[0]}")
    figs = []
    ok = True
    for size in (int(s) for s in args.sizes.split(",")):
        figs.append(measure(size, args.dir, args.repeat, jobs, args.verify))
        ok &= report(figs[-1])
    if len(figs) > 1:
        growth(figs)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
