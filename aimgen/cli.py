"""Command line: parse flags, call the library, print, exit. Nothing else.

Heavy modules are imported inside commands so `aimgen --help` stays fast.
Exit codes (stable): 0 success, 1 input or resolution errors, 2 usage error, 3 `--check` found drift.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from aimgen.diagnostics import EXIT_INTERNAL, AimgenError, Diagnostic, render_json, render_text


def _root_option(func: Any) -> Any:
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="The repository holding catalog/, overlays/ and rendered/.",
    )(func)


def _format_option(func: Any) -> Any:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
        help="Report format.",
    )(func)


def _kubernetes_version_option(func: Any) -> Any:
    return click.option(
        "--kubernetes-version", default=None, metavar="X.Y",
        help="Core-kind schemas of this Kubernetes version (default: the newest kubernetes-validate ships).",
    )(func)


def _schema_source_options(func: Any) -> Any:
    """Where CRD schemas come from: a pre-generated dir, or CRDs converted on the fly (cached)."""
    func = _kubernetes_version_option(func)
    func = click.option("--crds", "crds", multiple=True, envvar="AIMGEN_CRDS",
                        type=click.Path(exists=True, path_type=Path),
                        help="CRD file or directory, converted on the fly and cached in .aimgen-cache/ "
                             "(repeatable; default: $AIMGEN_CRDS, a path list).")(func)
    return click.option("--schemas", "schema_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help="A schema directory written by `aimgen schemas`.")(func)


def emit_diagnostics(diagnostics: list[Diagnostic], fmt: str = "text") -> None:
    """Print diagnostics to stderr (text) or as a JSON list (json)."""
    if fmt == "json":
        click.echo(render_json(diagnostics))
    elif diagnostics:
        click.echo(render_text(diagnostics), nl=False, err=True)


class AimgenGroup(click.Group):
    """Turns AimgenError from any command into diagnostics and its exit code: no traceback for bad input."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AimgenError as exc:
            emit_diagnostics(exc.diagnostics)
            ctx.exit(exc.exit_code)


@click.group(cls=AimgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aimgen")
@click.option("--debug", is_flag=True, hidden=True, help="Show Python tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """aimgen: compile AIMService specs into KServe, KEDA and Gateway API manifests, ahead of time."""
    ctx.obj = {"debug": debug}


@cli.command()
@_root_option
@click.option("--overlay", "overlays", multiple=True, metavar="NAME", help="Build only these overlays (repeatable).")
@click.option("--check", is_flag=True, help="Write nothing; report what would change (exit 3 if anything would).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@_format_option
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: every CPU, when there are enough files to compile).")
@click.option("--argocd", is_flag=True, help="Also write an Argo CD Application per overlay to rendered/_gitops/ "
              "(or set settings.gitops.argocd.enabled). Give it to --check too.")
@click.option("--flux", is_flag=True, help="Also write a Flux Kustomization per overlay to rendered/_gitops/ "
              "(or set settings.gitops.flux.enabled). Give it to --check too.")
@click.option("--validate", "validate_output", is_flag=True,
              help="Validate the whole output against the CRD schemas and API-server rules before writing "
                   "(schemas from --schemas, --crds or $AIMGEN_CRDS).")
@_schema_source_options
def build(root: Path, overlays: tuple[str, ...], check: bool, strict: bool, fmt: str, jobs: int | None,
          argocd: bool, flux: bool, validate_output: bool, schema_dir: Path | None, crds: tuple[Path, ...],
          kubernetes_version: str | None) -> None:
    """Build every overlay (or the named ones) into rendered/."""
    from aimgen.incremental.run import run_build  # light: a build with nothing to compile never imports the compiler
    from aimgen.results import BuildOptions

    validator = None
    if validate_output:
        from aimgen.validate.commands import output_validator

        validator = output_validator(root, schema_dir, crds, kubernetes_version)
    result = run_build(BuildOptions(root=root, overlays=overlays, check=check, strict=strict, jobs=jobs,
                                    argocd=argocd, flux=flux, validate=validator))
    if fmt == "json":
        click.echo(result.report_json())
    else:
        emit_diagnostics(result.diagnostics)
        click.echo(result.summary_text(), err=True)
    sys.exit(result.exit_code)


@cli.command()
@_root_option
@click.argument("overlay")
@click.argument("service", metavar="NAMESPACE/NAME")
@_format_option
def explain(root: Path, overlay: str, service: str, fmt: str) -> None:
    """Show every candidate profile for a service, why it was kept or rejected, and why the winner won."""
    from aimgen.build import explain_service

    namespace, _, name = service.partition("/")
    if not name:
        raise click.UsageError("SERVICE must be NAMESPACE/NAME")
    text, exit_code = explain_service(root, overlay, namespace, name, fmt)
    click.echo(text, nl=not text.endswith("\n"))
    sys.exit(exit_code)


@cli.command()
@_root_option
@click.option("--overlay", "overlays", multiple=True, metavar="NAME", help="Only these overlays (repeatable).")
@_format_option
def profiles(root: Path, overlays: tuple[str, ...], fmt: str) -> None:
    """List the catalog with each profile's status against each overlay's inventory."""
    from aimgen.build import list_profiles

    text, exit_code = list_profiles(root, overlays, fmt)
    click.echo(text, nl=not text.endswith("\n"))
    sys.exit(exit_code)


@cli.command()
@_root_option
@click.option("--base", "base_ref", default=None, metavar="REF",
              help="Git ref to compare with. [default: the merge base of HEAD with main (or origin/main, master, "
                   "origin/master), else HEAD]")
@click.option("--overlay", "overlays", multiple=True, metavar="NAME", help="Only these overlays (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for machines.")
def diff(root: Path, base_ref: str | None, overlays: tuple[str, ...], fmt: str) -> None:
    """Compile the inputs at a git ref and in the work tree; report the output differences, their causes and
    which are disruptive. Writes nothing. Exit 0 (with or without differences), 1 if the work tree does not
    compile, 2 on usage errors."""
    from aimgen.diff.compare import run_diff
    from aimgen.diff.report import render

    report = run_diff(root, base_ref, overlays)
    text = render(report, fmt)
    click.echo(text, nl=not text.endswith("\n"))
    sys.exit(report.exit_code)


@cli.group()
def recipes() -> None:
    """Legacy AIM recipes ({model}-{hardware}-{precision}.yaml): validate them, import them as profiles."""


_recipe_paths = click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))


@recipes.command("validate")
@_recipe_paths
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@_format_option
def recipes_validate(paths: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Check recipe files (or directories of them); exit 1 on any error."""
    from aimgen.recipes.commands import run_validate

    outcome = run_validate(list(paths), Path.cwd(), strict)
    emit_diagnostics(outcome.diagnostics, fmt)
    click.echo(outcome.summary, err=True)
    sys.exit(outcome.exit_code)


@recipes.command("import")
@_recipe_paths
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the AIMClusterProfile files (e.g. catalog/recipes).")
@click.option("--image", default=None, metavar="TEMPLATE",
              help="Profile image; placeholders {model} {recipe} {hardware} {precision} {engine}. "
                   "[default: amdenterpriseai/aim-{model}:0.8.5]")
@click.option("--type", "profile_type", type=click.Choice(["optimized", "general", "preview", "unoptimized"]),
              default="unoptimized", show_default=True, help="Profile type of the imported profiles.")
def recipes_import(paths: tuple[Path, ...], out: Path, image: str | None, profile_type: str) -> None:
    """Convert every enabled engine/GPU-count entry into an AIMClusterProfile file under --out."""
    from aimgen.recipes.commands import run_import
    from aimgen.recipes.convert import DEFAULT_IMAGE, check_image_template

    problem = check_image_template(image or DEFAULT_IMAGE)
    if problem:
        raise click.BadParameter(problem, param_hint="--image")
    outcome = run_import(list(paths), Path.cwd(), out, image or DEFAULT_IMAGE, profile_type)
    emit_diagnostics(outcome.diagnostics)
    click.echo(outcome.summary, err=True)
    sys.exit(outcome.exit_code)


@cli.command()
@click.option("--crds", "crds", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
              help="CustomResourceDefinition file or directory (repeatable).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output directory, laid out as {group}/{kind}_{version}.json for kubeconform.")
@_kubernetes_version_option
def schemas(crds: tuple[Path, ...], out: Path, kubernetes_version: str | None) -> None:
    """Convert CRDs (one strict JSON Schema per served version) and write the core kinds beside them."""
    from aimgen.validate.commands import run_schemas

    outcome = run_schemas(crds, out, kubernetes_version)
    emit_diagnostics(outcome.diagnostics)
    click.echo(outcome.summary, err=True)
    sys.exit(outcome.exit_code)


@cli.command()
@_root_option
@_schema_source_options
@_format_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(root: Path, schema_dir: Path | None, crds: tuple[Path, ...], kubernetes_version: str | None,
             fmt: str, paths: tuple[Path, ...]) -> None:
    """Validate manifests (default: <root>/rendered) against CRD schemas and the API server's other rules."""
    from aimgen.validate.commands import run_validate

    outcome = run_validate(paths, root, schema_dir, crds, kubernetes_version)
    emit_diagnostics(outcome.diagnostics, fmt)
    click.echo(outcome.summary, err=True)
    sys.exit(outcome.exit_code)


def main() -> None:
    """Entry point. An internal bug prints one line (a traceback only with --debug) and exits 70."""
    # The models are aimgen's own: third-party pydantic plugins have nothing to instrument (and finding them scans
    # every installed distribution's entry points when the first model is built, in each build that compiles).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    code: Any = EXIT_INTERNAL
    try:
        cli.main(prog_name="aimgen")
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        click.echo(f"aimgen: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)",
                   err=True)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # a closed pipe (aimgen build | head): nothing more to say there
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
