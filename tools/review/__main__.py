"""python -m tools.review [--config FILE] [--base DIR [--base-config FILE]] [--region REGION]
[--output FILE] OUTDIR

Writes OUTDIR/review.md (or --output) from the assembly `cdk synth` wrote into OUTDIR
and prints its summary. --config: the config that was synthesized (its training and
tuning usage is priced). --base: an older assembly to compare with (changes, cost before
-> after, what fails on deploy); --base-config: the config it was synthesized from, whose
training and tuning usage prices the base (default: --config's). Exit status 1 when
OUTDIR or --base is not an assembly or a config is invalid.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from tools.assembly import AssemblyError, load_assembly

from .cost import PriceTable, UsageItem, estimate
from .diff import compare
from .endpoint_updates import refused_updates
from .replacements import failing_replacements
from .report import Review
from .weak_references import stale_references


def config_usages(config: Path) -> list[UsageItem]:
    """What the config's sections say they run (`resource_usages()`), as cost items."""
    from stacks.settings import load_settings

    settings = load_settings(config)
    items: list[UsageItem] = []
    for name in type(settings).model_fields:
        section = getattr(settings, name)
        usages = getattr(section, "resource_usages", None)
        if callable(usages):
            items += [_item(u) for u in usages()]
    return items


def _item(usage: object) -> UsageItem:
    return UsageItem(
        kind=str(getattr(usage, "kind")),  # noqa: B009 - duck-typed ResourceUsage
        path=str(getattr(usage, "path")),  # noqa: B009
        instance_type=getattr(usage, "instance_type", None),
        instance_count=int(getattr(usage, "instance_count", 1)),
        max_runtime_seconds=getattr(usage, "max_runtime_seconds", None),
        max_parallel_jobs=getattr(usage, "max_parallel_jobs", None),
        max_jobs=getattr(usage, "max_jobs", None),
        max_tuning_seconds=getattr(usage, "max_tuning_seconds", None),
        overridable=bool(getattr(usage, "overridable", False)),
    )


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.review", description=__doc__)
    parser.add_argument("outdir", type=Path, help="the synthesized assembly (cdk.out)")
    parser.add_argument("--config", type=Path, help="the config file it was synthesized from")
    parser.add_argument("--base", type=Path, help="an older assembly to compare with")
    parser.add_argument(
        "--base-config", type=Path, help="the config --base was synthesized from (its usage)"
    )
    parser.add_argument("--region", help="price in this region (default: the stacks' region)")
    parser.add_argument("--output", type=Path, help="where to write (default OUTDIR/review.md)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from stacks.settings import ConfigError

    table = PriceTable.load()
    if args.region and args.region not in table.regions:
        print(f"--region {args.region}: not in the price table", file=sys.stderr)
        return 1
    try:
        base = load_assembly(args.base) if args.base else None
        assembly = load_assembly(args.outdir)
        usages = config_usages(args.config) if args.config else []
    except (AssemblyError, ConfigError) as err:
        print(err, file=sys.stderr)
        return 1
    base_usages, base_note = usages, _base_usage_note(None, args.config)
    if base is not None and args.base_config is not None:
        try:
            base_usages = config_usages(args.base_config)
            base_note = _base_usage_note(args.base_config, args.config)
        except ConfigError as err:
            # The base may predate a change of the settings model: price it as this config.
            print(
                f"--base-config: this kit cannot read {args.base_config} ({err}); the base's "
                "training and tuning are priced as this config runs them",
                file=sys.stderr,
            )
    review = Review(
        title=str(args.config or args.outdir),
        assembly=assembly,
        estimate=estimate(assembly, usages, region=args.region, table=table),
        base_label=str(args.base) if args.base else None,
    )
    if base is not None:
        changes = compare(base, assembly)
        review.changes = changes
        review.refused = refused_updates(base, assembly)
        review.failing = failing_replacements(base, assembly, changes)
        review.stale = stale_references(base, assembly, changes)
        review.base_estimate = estimate(
            base, base_usages, region=review.estimate.region, table=table
        )
        review.base_usage_note = base_note
    output = args.output or args.outdir / "review.md"
    output.write_text(review.markdown())
    print("\n".join(review.summary_lines()))
    print(f"Review written to {output}")
    return 0


def _base_usage_note(base_config: Path | None, config: Path | None) -> str | None:
    """How the base's training and tuning (not in its templates) is priced."""
    if base_config is not None:
        return f"the base's training and tuning as {base_config} runs them"
    if config is not None:
        return (
            "the base's training and tuning as this config runs them; BASE_CONFIG= prices "
            "the base's own"
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
