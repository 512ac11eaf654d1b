"""What each optimisation of the incremental build saves, measured (`make bench-mechanisms`).

    python bench/mechanisms.py [--services 10000] [--rounds 7] [--cold-rounds 2] [--only NAME,...]

Each mechanism is switched off by a small patch applied to a copy of the aimgen package (MECHANISMS: the text
each patch replaces must still be in the code, else the mechanism is reported as gone). Every variant builds its
own copy of one generated tree (the build cache is keyed on aimgen's source, so variants cannot share one); then
the no-op rebuild and the rebuild after one changed service are timed in rounds, variants interleaved in a new
order each round, and reported as medians with what switching the mechanism off costs. Mechanisms that matter
for a cold build are timed cold too. Wall-clock seconds of the whole process tree.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import changed_service, generate_tree, run, toggle_replicas  # noqa: E402

PACKAGE = Path(__file__).resolve().parent.parent / "aimgen"


@dataclass(frozen=True)
class Mechanism:
    what: str
    patches: tuple[tuple[str, str, str], ...]  # (file under aimgen/, text, its replacement)
    cold: bool = False  # also timed on a cold build
    args: tuple[str, ...] = ()  # build flags instead of (or beside) a patch


MECHANISMS = {
    "stat-records": Mechanism(
        "input files known by their stats (not re-read and re-hashed)",
        (("incremental/sources.py", "if found is not None and found[0] == stat:", "if False:"),)),
    "details-journal": Mechanism(
        "changes appended to details.log instead of rewriting details.bin",
        (("incremental/cache.py", "return grown if grown <= journal_limit(base_size) else None", "return None"),)),
    "short-way": Mechanism(
        "a changed unit merged into the overlay's details (not every rendered file compared)",
        (("incremental/run.py", "elif state.inputs_changed and state.outputs_ok and state.details is not None and "
          "not state.whole:", "elif False:"),)),
    "compiler-process": Mechanism(
        "a forked compiler process (and workers) instead of compiling in the build's process",
        (), args=("--jobs", "1")),
    "gc-off": Mechanism(
        "the cycle collector paused during the build",
        (("incremental/cache.py", "    enabled = gc.isenabled()\n    gc.disable()\n",
          "    enabled = False\n"),)),
    "lean-yaml": Mechanism(
        "a lean YAML constructor for plain documents",
        (("inputs/load.py", "            return self._plain(node, {})\n",
          "            return super().construct_document(node)\n"),), cold=True),
    "fast-emitter": Mechanism(
        "the YAML emitter specialised to aimgen's shapes",
        (("kube/yamlout.py", "    if type(obj) is dict and obj:\n", "    if False:\n"),), cold=True),
}


@dataclass
class Variant:
    name: str
    package_dir: Path  # holds aimgen/ (patched)
    tree: Path
    args: tuple[str, ...] = ()
    noop: list[float] = field(default_factory=list)
    change: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)

    def build(self, *extra: str) -> list[str]:
        return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(self.package_dir)!r}); "
                "from aimgen.cli import main; main()", "build", "--root", str(self.tree), *self.args, *extra]


def patched_package(name: str, mechanism: Mechanism | None, base: Path) -> Path | None:
    """A copy of aimgen/ with the mechanism switched off; None when a patch no longer applies."""
    target = base / f"pkg-{name}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(PACKAGE, target / "aimgen", ignore=shutil.ignore_patterns("__pycache__"))
    for rel, old, new in mechanism.patches if mechanism else ():
        path = target / "aimgen" / rel
        text = path.read_text()
        if text.count(old) != 1:
            return None
        path.write_text(text.replace(old, new))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(target)], check=True, capture_output=True)
    return target


def timed(variant: Variant, *extra: str) -> float:
    result = run(variant.build(*extra))
    if result.code != 0:
        raise SystemExit(f"{variant.name}: build failed ({result.code}):\n{result.stderr[-2000:]}")
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cold-rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated mechanism names (default: all)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "aimgen-mechanisms")
    options = parser.parse_args()
    chosen = {n: m for n, m in MECHANISMS.items() if not options.only or n in options.only.split(",")}
    base: Path = options.dir
    base.mkdir(parents=True, exist_ok=True)
    source = base / "tree"
    shutil.rmtree(source, ignore_errors=True)
    generate_tree(str(source), str(options.services))

    variants: list[Variant] = []
    for name, mechanism in {"baseline": None, **chosen}.items():
        package = patched_package(name, mechanism, base)
        if package is None:
            print(f"{name}: its patch no longer applies (the mechanism is gone or changed)")
            continue
        tree = base / f"tree-{name}"
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(source, tree, symlinks=True)
        variant = Variant(name, package, tree, mechanism.args if mechanism else ())
        if mechanism is None or mechanism.cold:
            variant.cold.append(timed(variant))
        else:
            timed(variant)
        timed(variant)  # the cache settled (stat records older than the margin)
        variants.append(variant)

    rng = random.Random(0)
    for _ in range(options.rounds):
        rng.shuffle(variants)
        for variant in variants:
            variant.noop.append(timed(variant))
            toggle_replicas(changed_service(variant.tree)[0])
            variant.change.append(timed(variant))
    for _ in range(options.cold_rounds - 1):
        for variant in (v for v in variants if v.cold):
            shutil.rmtree(variant.tree / "rendered")
            shutil.rmtree(variant.tree / ".aimgen-cache")
            variant.cold.append(timed(variant))

    by_name = {v.name: v for v in variants}
    ref = by_name["baseline"]
    spread = {k: (max(v) - min(v)) / 2 for k, v in (("noop", ref.noop), ("change", ref.change))}
    print(f"\n{options.services} services, {options.rounds} rounds, medians in ms (baseline half-range: no-op "
          f"{spread['noop'] * 1000:.0f}, change {spread['change'] * 1000:.0f})")
    print(f"{'switched off':<18} {'no-op':>7} {'saves':>6} {'change':>7} {'saves':>6} {'cold':>8} {'saves':>6}")
    for variant in sorted(variants, key=lambda v: v.name != "baseline"):
        print(f"{variant.name:<18} {cell(variant.noop, ref.noop, variant is ref)} "
              f"{cell(variant.change, ref.change, variant is ref)} {cell(variant.cold, ref.cold, variant is ref)}")


def cell(values: list[float], reference: list[float], baseline: bool) -> str:
    """A median in ms, and what it costs over the baseline's."""
    if not values:
        return f"{'':>7} {'':>6}"
    med = statistics.median
    saved = "" if baseline else f"{(med(values) - med(reference)) * 1000:+6.0f}"
    return f"{med(values) * 1000:7.0f} {saved:>6}"

if __name__ == "__main__":
    main()
