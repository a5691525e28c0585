"""Rewrite every ``tests/data/<kind>/<name>.expected.jsonl`` from the parsers: ``python tests/regen_golden.py``."""
from __future__ import annotations

import golden


def main() -> None:
    for sample in golden.samples():
        parser, events, ctx = golden.parse(sample)
        golden.expected_path(sample).write_text(golden.dump(events), encoding="utf-8")
        print(f"{sample.relative_to(golden.ROOT)}: {type(parser).__name__} {len(events)} events,"
              f" {ctx.warning_count} warnings")


if __name__ == "__main__":
    main()
