"""Recipe validation: the seed's checks (schema, id = file name, model ids, serving enabled, tensor
parallelism = GPU count, naming, hardware, precision) plus a reviewer's (duplicates, ports, value ranges,
dtype vs precision, GPU-count keys). Every finding is a Diagnostic at the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from aimgen.diagnostics import Diagnostic, Location, SourceRef, error, warning
from aimgen.inputs.load import load_files, relative, yaml_files
from aimgen.inputs.models.aim import MODEL_ID
from aimgen.inputs.parse import validation_diagnostics
from aimgen.recipes.args import (
    ARG_NAME,
    DTYPES,
    PIPELINE_PARALLEL,
    RULES,
    TENSOR_PARALLEL,
    WIDE_PRECISIONS,
    arg_key,
    as_int,
)
from aimgen.recipes.model import Recipe, ServeEntry

# Seed 004 names MI250 and MI300X; the other Instinct GPUs the accelerator detector labels are accepted too.
HARDWARE = ("MI210", "MI250", "MI250X", "MI300A", "MI300X", "MI308X", "MI325X", "MI350X", "MI355X")
PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4")  # seed 004 "Supported Formats"
# Seed 004's third example uses `precision: mixed` (bf16 compute, AWQ weights). Accepted with a warning:
# profiles have no `mixed`, so each imported profile takes its precision from the entry's --dtype.
MIXED = "mixed"
MAX_GPUS = 8  # seed 004: "Support for 1-8 GPU configurations"
USUAL_GPU_COUNTS = (1, 2, 4, 8)  # seed 004 hardware guide: "Configurations: 1, 2, 4, 8 GPU setups"
GPU_KEY = re.compile(r"^([1-9][0-9]*)_gpu$")
NAME_PART = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RECIPE_SUFFIX = ".yaml"


@dataclass(frozen=True)
class RecipeFile:
    """A parsed recipe and where it came from."""

    recipe: Recipe
    source: SourceRef
    file_name: str  # base name, e.g. qwen3-32b-mi250-bf16.yaml

    @property
    def stem(self) -> str:
        return self.file_name.rsplit(".", 1)[0]


def gpu_count(key: str) -> int | None:
    """N of a `"N_gpu"` key, or None when the key is malformed or N is outside 1..8."""
    match = GPU_KEY.match(key)
    return int(match.group(1)) if match and int(match.group(1)) <= MAX_GPUS else None


def profile_precision(recipe: Recipe, entry: ServeEntry) -> str | None:
    """The precision a profile of this entry declares: the recipe's, or for `mixed` the --dtype's."""
    if recipe.precision != MIXED:
        return recipe.precision
    dtype = next((v for k, v in entry.args.items() if arg_key(k) == "dtype"), None)
    return DTYPES.get(str(dtype)) if dtype is not None else None


# --- loading -------------------------------------------------------------------------------------


def recipe_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given and the YAML files below directories, each once, in a stable order."""
    seen: set[Path] = set()
    out: list[Path] = []
    for path in paths:
        for file in yaml_files(path) if path.is_dir() else [path]:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                out.append(file)
    return out


def load_recipes(files: list[Path], root: Path) -> tuple[list[RecipeFile], list[Diagnostic]]:
    """Parse every file as one recipe; schema violations become located diagnostics."""
    documents, diags = load_files(files, root)
    seen: set[str] = set()
    recipes: list[RecipeFile] = []
    for doc in documents:
        if doc.source.file in seen:
            diags.append(error("MultipleRecipesInFile", "a recipe file holds one YAML document", doc.source))
            continue
        seen.add(doc.source.file)
        if not isinstance(doc.value, dict):
            diags.append(error("InvalidRecipe", "a recipe is a mapping (recipe_id, ...)", doc.source))
            continue
        try:
            recipe = Recipe.model_validate(doc.value)
        except ValidationError as exc:
            diags.extend(validation_diagnostics(exc, doc.value, doc.source))
            continue
        recipes.append(RecipeFile(recipe, doc.source, doc.source.file.rsplit("/", 1)[-1]))
    parsed_or_failed = seen | {str(d.location.path) for d in diags if isinstance(d.location, Location)}
    for file in files:
        rel = relative(file, root)
        if rel not in parsed_or_failed:
            diags.append(error("EmptyRecipe", "the file holds no recipe", Location(rel, 1, 1)))
    return recipes, diags


# --- checks of one recipe ----------------------------------------------------------------------------


def check_recipe(rf: RecipeFile) -> list[Diagnostic]:
    """Every single-file check of one parsed recipe."""
    out = _check_identity(rf) + _check_name(rf) + _check_hardware_precision(rf)
    for section, _engine, entries in rf.recipe.sections():
        for key, entry in entries.items():
            out += _check_entry(rf, section, key, entry)
    return out + _check_serving(rf) + _check_ports(rf)


def _check_identity(rf: RecipeFile) -> list[Diagnostic]:
    r, src = rf.recipe, rf.source
    out: list[Diagnostic] = []
    if r.recipe_id != rf.stem:
        out.append(error("RecipeIdMismatch", f"recipe_id {r.recipe_id!r} does not match the file name "
                         f"{rf.file_name!r} (expected {rf.stem!r})", src.at("recipe_id")))
    if not MODEL_ID.match(r.huggingface_id):
        out.append(error("InvalidModelId", f"huggingface_id {r.huggingface_id!r} is not a Hugging Face id "
                         "of the form org/name", src.at("huggingface_id")))
    if r.model_id != r.huggingface_id:
        out.append(error("ModelIdMismatch", f"model_id {r.model_id!r} does not match huggingface_id "
                         f"{r.huggingface_id!r}", src.at("model_id")))
    return out


def _check_name(rf: RecipeFile) -> list[Diagnostic]:
    """Naming convention `{model}-{hardware}-{precision}.yaml`, all lowercase."""
    r, at = rf.recipe, rf.source.at("recipe_id")
    expected = f"-{r.hardware.lower()}-{r.precision.lower()}"
    convention = "{model}-{hardware}-{precision}.yaml"
    model = rf.stem.removesuffix(expected)
    if not rf.file_name.endswith(RECIPE_SUFFIX):
        reason = f"the extension must be {RECIPE_SUFFIX}"
    elif not NAME_PART.match(rf.stem):
        reason = "use lowercase letters, digits and single '-' only"
    elif model == rf.stem or not model:
        reason = f"expected '<model>{expected}{RECIPE_SUFFIX}' for {r.hardware} and {r.precision}"
    else:
        return _check_model_part(rf, model)
    msg = f"file name {rf.file_name!r} does not follow {convention}: {reason}"
    return [error("RecipeNameInvalid", msg, at)]


def _tokens(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def _check_model_part(rf: RecipeFile, model: str) -> list[Diagnostic]:
    repo = rf.recipe.huggingface_id.rsplit("/", 1)[-1]
    missing = sorted(_tokens(model) - _tokens(repo))
    if not missing:
        return []
    hf_id = rf.recipe.huggingface_id
    msg = f"model part {model!r} of the file name has {', '.join(missing)}, which {hf_id!r} has not"
    return [warning("RecipeModelNameMismatch", msg, rf.source.at("recipe_id"))]


def _check_hardware_precision(rf: RecipeFile) -> list[Diagnostic]:
    r, src = rf.recipe, rf.source
    out: list[Diagnostic] = []
    if r.hardware not in HARDWARE:
        hint = next((f"; did you mean {h}?" for h in HARDWARE if h.lower() == r.hardware.lower()), "")
        msg = f"unknown hardware {r.hardware!r}{hint} (known: {', '.join(HARDWARE)})"
        out.append(error("UnknownHardware", msg, src.at("hardware")))
    if r.precision == MIXED:
        msg = "precision 'mixed' is no profile precision: imported profiles take it from each entry's --dtype"
        out.append(warning("MixedPrecision", msg, src.at("precision")))
    elif r.precision not in PRECISIONS:
        hint = f"; did you mean {r.precision.lower()}?" if r.precision.lower() in PRECISIONS else ""
        out.append(error("UnknownPrecision", f"unknown precision {r.precision!r}{hint} "
                         f"(known: {', '.join(PRECISIONS)}, {MIXED})", src.at("precision")))
    return out


@dataclass(frozen=True)
class _At:
    """One serving entry being checked: `section.key` of a recipe file."""

    rf: RecipeFile
    section: str
    key: str
    entry: ServeEntry

    def __str__(self) -> str:
        return f"{self.section}.{self.key}"

    def arg(self, name: str, key: bool = False) -> SourceRef:
        return self.rf.source.at(self.section, self.key, "args", name, key=key)

    @property
    def head(self) -> SourceRef:
        return self.rf.source.at(self.section, self.key, key=True)

    def find(self, *keys: str) -> str | None:
        return next((name for name in self.entry.args if arg_key(name) in keys), None)


def _check_entry(rf: RecipeFile, section: str, key: str, entry: ServeEntry) -> list[Diagnostic]:
    at = _At(rf, section, key, entry)
    count = gpu_count(key)
    if count is None:
        msg = f"{section} key {key!r} must be \"N_gpu\" with N in 1..{MAX_GPUS}"
        return [error("InvalidGpuKey", msg, at.head)]
    out: list[Diagnostic] = []
    if count not in USUAL_GPU_COUNTS:
        out.append(warning("UnusualGpuCount", f"{at}: {count} GPUs; recipes use 1, 2, 4 or 8", at.head))
    for name, value in entry.args.items():
        if not ARG_NAME.match(name):
            msg = f"{at}: argument {name!r} must be a lowercase '--long-option'"
            out.append(error("InvalidArgName", msg, at.arg(name, key=True)))
            continue
        rule = RULES.get(arg_key(name))
        reason = rule[1](value) if rule else None
        if rule and reason:
            out.append(error(rule[0], f"{at}: {name} {reason}", at.arg(name)))
        hf_id = rf.recipe.huggingface_id
        if arg_key(name) in ("model", "model-path") and value != hf_id:
            msg = f"{at}: {name} {value!r} is not the recipe's huggingface_id {hf_id!r}"
            out.append(error("ModelArgMismatch", msg, at.arg(name)))
    return out + _check_parallelism(at, count) + _check_dtype(at)


def _check_parallelism(at: _At, count: int) -> list[Diagnostic]:
    """Seed 004: tensor parallelism matches the GPU count (pipeline stages multiply it); absent means 1."""
    tp_name, pp_name = at.find(*TENSOR_PARALLEL), at.find(*PIPELINE_PARALLEL)
    tp = as_int(at.entry.args[tp_name]) if tp_name else 1
    pp = as_int(at.entry.args[pp_name]) if pp_name else 1
    if tp is None or pp is None or tp * pp == count:
        return []  # an unreadable size is reported by its value rule
    shown = f"--tensor-parallel-size {tp}" if tp_name else "no --tensor-parallel-size (so 1)"
    if pp_name:
        shown += f" x --pipeline-parallel-size {pp}"
    where = at.arg(tp_name) if tp_name else at.head
    return [error("TensorParallelMismatch", f"{at} runs on {count} GPU(s) but has {shown}", where)]


def _check_dtype(at: _At) -> list[Diagnostic]:
    """--dtype names the recipe's precision; a quantized one may compute in fp16/bf16 with --quantization."""
    precision = at.rf.recipe.precision
    name = at.find("dtype")
    if name is None:
        if precision == MIXED and at.entry.enabled:
            msg = f"{at}: a 'mixed' recipe needs a --dtype naming each entry's precision"
            return [error("PrecisionUndetermined", msg, at.head)]
        return []
    value = at.entry.args[name]
    if str(value) not in DTYPES:
        msg = f"{at}: unknown --dtype {value!r} (known: {', '.join(DTYPES)})"
        return [error("InvalidDtype", msg, at.arg(name))]
    meant = DTYPES[str(value)]
    if precision == MIXED:
        if meant is None and at.entry.enabled:
            msg = f"{at}: --dtype {value!r} does not name the precision of this 'mixed' entry"
            return [error("PrecisionUndetermined", msg, at.arg(name))]
        return []
    if precision not in PRECISIONS or meant in (None, precision):
        return []
    quantizing = precision not in WIDE_PRECISIONS and meant in WIDE_PRECISIONS
    if quantizing and at.find("quantization"):
        return []
    hint = " (a quantized precision computing in fp16/bf16 needs --quantization)" if quantizing else ""
    msg = f"{at}: --dtype {value!r} means {meant}, but the recipe's precision is {precision}{hint}"
    return [error("DtypeMismatch", msg, at.arg(name))]


def _check_serving(rf: RecipeFile) -> list[Diagnostic]:
    if any(e.enabled for _, _, entries in rf.recipe.sections() for e in entries.values()):
        return []
    present = [s for s, _, _ in rf.recipe.sections() if s in rf.recipe.model_fields_set]
    at = rf.source.at(present[0], key=True) if present else rf.source
    return [error("NoServingEnabled", "no serving method is enabled: set enabled: true on at least one "
                  "vllm_serve or sglang_serve entry", at)]


def _check_ports(rf: RecipeFile) -> list[Diagnostic]:
    """Engines of one recipe may run side by side: their enabled entries need distinct ports."""
    first: dict[int, tuple[str, str]] = {}  # port -> (section, key) of its first user
    out: list[Diagnostic] = []
    for section, _engine, entries in rf.recipe.sections():
        for key, entry in entries.items():
            at = _At(rf, section, key, entry)
            name = at.find("port")
            port = as_int(entry.args[name]) if name and entry.enabled else None
            if name is None or port is None:
                continue
            owner = first.setdefault(port, (section, key))
            if owner[0] != section:
                msg = f"{at}: port {port} is also used by {owner[0]}.{owner[1]} (engines need distinct ports)"
                out.append(error("PortConflict", msg, at.arg(name)))
    return out


# --- checks across recipes ---------------------------------------------------------------------------


def check_recipes(recipes: list[RecipeFile]) -> list[Diagnostic]:
    """Single-file checks of every recipe, then duplicates across files (reported at the later one)."""
    out = [d for rf in recipes for d in check_recipe(rf)]
    by_id: dict[str, RecipeFile] = {}
    by_target: dict[tuple[str, str, str], RecipeFile] = {}
    for rf in recipes:
        r = rf.recipe
        earlier = by_id.setdefault(r.recipe_id, rf)
        target = (r.huggingface_id.lower(), r.hardware, r.precision)
        same = by_target.setdefault(target, rf)
        if earlier is not rf:
            out.append(error("DuplicateRecipeId", f"recipe_id {r.recipe_id!r} is also defined in "
                             f"{earlier.source.file}", rf.source.at("recipe_id")))
        elif same is not rf:
            msg = f"{same.source.file} already configures {r.huggingface_id} on {r.hardware} at {r.precision}"
            out.append(error("DuplicateRecipe", msg, rf.source.at("recipe_id")))
    return out


def validate(paths: Iterable[Path], root: Path) -> tuple[list[RecipeFile], list[Diagnostic]]:
    """Load and check the recipes under `paths`; diagnostics carry unresolved SourceRefs."""
    files = recipe_paths(paths)
    if not files:
        return [], [error("NoRecipesFound", "no .yaml recipe files under "
                          + ", ".join(relative(p, root) for p in paths))]
    recipes, diags = load_recipes(files, root)
    return recipes, diags + check_recipes(recipes)
