"""The two floors aimgen is measured against, each run as its own Python process by bench/run.py.

    python bench/floors.py noop ROOT
        hash every input file (catalog/, overlays/) and stat every file under rendered/: the least any tool
        must do to know that nothing changed.
    python bench/floors.py naive ROOT OBJECTS OUT
        a naive pipeline: load every input file with PyYAML's C loader, then dump the objects aimgen rendered
        (read from OBJECTS, a marshal file, not timed: it stands for the compiling) with PyYAML's C dumper and
        aimgen's options, one file each under OUT. Prints the seconds spent reading OBJECTS, which run.py
        subtracts from the process's wall time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import time


def noop(root: str) -> None:
    for top in ("catalog", "overlays"):
        for dirpath, _, filenames in os.walk(os.path.join(root, top)):
            for name in filenames:
                with open(os.path.join(dirpath, name), "rb") as fh:
                    hashlib.sha256(fh.read()).digest()
    for dirpath, _, filenames in os.walk(os.path.join(root, "rendered")):
        for name in filenames:
            os.stat(os.path.join(dirpath, name))


def naive(root: str, objects: str, out: str) -> None:
    import yaml

    for top in ("catalog", "overlays"):
        for dirpath, _, filenames in os.walk(os.path.join(root, top)):
            for name in filenames:
                if name.endswith((".yaml", ".yml")):
                    with open(os.path.join(dirpath, name), "rb") as fh:
                        list(yaml.load_all(fh.read(), Loader=yaml.CSafeLoader))
    started = time.perf_counter()
    with open(objects, "rb") as fh:
        items = marshal.load(fh)
    unmarshal = time.perf_counter() - started
    made: set[str] = set()
    for rel, obj in items:
        text = yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                         width=1 << 30)
        path = os.path.join(out, rel)
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(f"{unmarshal:.6f}")


if __name__ == "__main__":
    {"noop": noop, "naive": naive}[sys.argv[1]](*sys.argv[2:])
