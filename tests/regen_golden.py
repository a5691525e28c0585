"""Rewrite every ``tests/data/<source>/<name>.expected.jsonl`` from the parsers: ``python tests/regen_golden.py``."""
from __future__ import annotations

import golden


def main() -> None:
    for sample in golden.samples():
        entry, lines, ctx = golden.parse(sample)
        golden.expected_path(sample).write_text(golden.dump(lines), encoding="utf-8")
        print(f"{sample.relative_to(golden.ROOT)}: {type(entry.parser).__name__} {len(lines) - 1} events,"
              f" {ctx.warning_count} warnings")


if __name__ == "__main__":
    main()
