"""Recipe import: each enabled engine/GPU-count entry becomes one AIMClusterProfile (v1alpha2, seed 003).

Decisions (README "Legacy recipes"):
- aimId is the lower-cased Hugging Face id, modelId keeps its spelling; no modelSources: the model comes
  with the image and recipes do not know its download size (a cache claim would be sized by guess);
- image: a template, by default the model's AIM image `amdenterpriseai/aim-{model}:0.8.5`
  ({model} = the Hugging Face id in lowercase with '/' and other separators as '-', as AIM images are named);
- engineArgs: typed values, keys without `--`, sorted; --model/--model-path, --port and --host are dropped
  (the AIM runtime serves the profile's model on port 8000);
- primary: per model and hardware, vLLM before SGLang, then the fewest GPUs, then precision
  bf16 > fp16 > fp8 > int8 > int4 > fp32, then recipe id;
- names: `<recipe_id>-<engine>-<N>gpu`, shortened with a hash when longer than 63 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimgen.kube.names import MAX_NAME, derived_name, rfc1123
from aimgen.kube.yamlout import dump_yaml
from aimgen.recipes.args import OWNED_BY_AIMGEN, arg_key, typed
from aimgen.recipes.model import Engine, Recipe, ServeEntry
from aimgen.recipes.validate import RecipeFile, gpu_count, profile_precision

API_VERSION = "aim.eai.amd.com/v1alpha2"
KIND = "AIMClusterProfile"
DEFAULT_IMAGE = "amdenterpriseai/aim-{model}:0.8.5"
IMAGE_FIELDS = ("model", "recipe", "hardware", "precision", "engine")
DEFAULT_TYPE = "unoptimized"  # a recipe is not a benchmarked AIM profile
PRECISION_PREFERENCE = ("bf16", "fp16", "fp8", "int8", "int4", "fp32")
ANNOTATION_RECIPE = "aimgen.amd.com/recipe"
ANNOTATION_ENTRY = "aimgen.amd.com/recipe-entry"
_IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")


@dataclass(frozen=True)
class Entry:
    """One enabled engine/GPU-count entry of a recipe: the source of one profile."""

    recipe: Recipe
    section: str
    engine: Engine
    key: str
    gpus: int
    precision: str
    serve: ServeEntry

    @property
    def name(self) -> str:
        full = f"{self.recipe.recipe_id}-{self.engine}-{self.gpus}gpu"
        if len(full) <= MAX_NAME and rfc1123(full) == full:
            return full
        return derived_name([self.recipe.recipe_id, self.engine, f"{self.gpus}gpu"], full)

    def rank(self) -> tuple[object, ...]:
        """Primary preference within one model and hardware: lowest wins."""
        precision = PRECISION_PREFERENCE.index(self.precision)
        return (self.engine != "vllm", self.gpus, precision, self.recipe.recipe_id)


def model_slug(huggingface_id: str) -> str:
    """`Qwen/Qwen3-32B` -> `qwen-qwen3-32b`, the model part of AIM image names."""
    return re.sub(r"[^a-z0-9]+", "-", huggingface_id.lower()).strip("-")


def image_for(template: str, entry: Entry) -> str:
    """The profile image from a template with {model}, {recipe}, {hardware}, {precision}, {engine}."""
    r = entry.recipe
    return template.format(model=model_slug(r.huggingface_id), recipe=r.recipe_id,
                           hardware=r.hardware.lower(), precision=entry.precision, engine=entry.engine)


def check_image_template(template: str) -> str | None:
    """Why an --image template is unusable, or None."""
    try:
        sample = template.format(**dict.fromkeys(IMAGE_FIELDS, "x"))
    except (KeyError, IndexError, ValueError) as exc:
        return f"{template!r}: placeholders are {', '.join('{' + f + '}' for f in IMAGE_FIELDS)} ({exc})"
    if not _IMAGE_REF.match(sample):
        return f"{template!r} is not a container image reference"
    return None


def entries(recipes: list[RecipeFile]) -> list[Entry]:
    """Every enabled entry, recipe by recipe, vLLM first, fewest GPUs first."""
    out: list[Entry] = []
    for rf in recipes:
        for section, engine, serves in rf.recipe.sections():
            for key, serve in serves.items():
                gpus, precision = gpu_count(key), profile_precision(rf.recipe, serve)
                if serve.enabled and gpus is not None and precision is not None:
                    out.append(Entry(rf.recipe, section, engine, key, gpus, precision, serve))
    return sorted(out, key=lambda e: (e.recipe.recipe_id, e.section != "vllm_serve", e.gpus))


def primaries(all_entries: list[Entry]) -> set[str]:
    """Names of the primary profiles: the best-ranked entry per model and hardware."""
    best: dict[tuple[str, str], Entry] = {}
    for entry in all_entries:
        group = (entry.recipe.huggingface_id.lower(), entry.recipe.hardware)
        if group not in best or entry.rank() < best[group].rank():
            best[group] = entry
    return {entry.name for entry in best.values()}


def engine_args(serve: ServeEntry) -> dict[str, Any]:
    """Typed engine arguments without the leading `--`, sorted, minus what aimgen owns."""
    args = {arg_key(name): typed(value) for name, value in serve.args.items()}
    return {key: args[key] for key in sorted(args) if key not in OWNED_BY_AIMGEN}


def to_profile(entry: Entry, image: str, profile_type: str, primary: bool) -> dict[str, Any]:
    """The AIMClusterProfile document of one entry, keys in a fixed order."""
    r = entry.recipe
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": entry.name,
            "annotations": {ANNOTATION_RECIPE: r.recipe_id, ANNOTATION_ENTRY: f"{entry.section}.{entry.key}"},
        },
        "spec": {
            "aimId": r.huggingface_id.lower(),
            "modelId": r.huggingface_id,
            "engine": entry.engine,
            "precision": entry.precision,
            "type": profile_type,
            "primary": primary,
            "acceleratorModel": r.hardware,
            "acceleratorType": "gpu",
            "acceleratorCount": entry.gpus,
            "image": image,
            "engineArgs": engine_args(entry.serve),
        },
    }


def convert(recipes: list[RecipeFile], image_template: str = DEFAULT_IMAGE,
            profile_type: str = DEFAULT_TYPE) -> dict[str, dict[str, Any]]:
    """File name -> profile document for every enabled entry of valid recipes."""
    all_entries = entries(recipes)
    chosen = primaries(all_entries)
    return {
        f"{e.name}.yaml": to_profile(e, image_for(image_template, e), profile_type, e.name in chosen)
        for e in all_entries
    }


def write_profiles(profiles: dict[str, dict[str, Any]], out: Path) -> list[Path]:
    """Write one file per profile (replacing each atomically); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file_name, document in profiles.items():
        path = out / file_name
        tmp = path.with_name(f".{file_name}.tmp")
        tmp.write_text(dump_yaml(document), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
