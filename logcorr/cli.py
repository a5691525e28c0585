"""The command line: a thin layer over logcorr.api. No traceback reaches the user unless --debug."""
from __future__ import annotations

import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import List, Optional, Sequence

import typer

from .errors import ExitCode, UsageError
from .model import Severity

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Diagnose CMS / Skype for Business presentation sharing through Expressway-E TURN.")
rules_app = typer.Typer(no_args_is_help=True, help="The rule catalogue.")
app.add_typer(rules_app, name="rules")


class Format(str, Enum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


TZ = typer.Option(None, "--tz", help="Time zone for logs whose lines carry none (IANA name or +01:00).")
REDACT = typer.Option(False, "--redact", help="Replace every address, host, domain, user, number, name and ICE credential in the output by a stable pseudonym (the diagnosis itself runs on the original data).")
REDACT_MAP = typer.Option(None, "--redact-map", help="Also write the pseudonym -> original table to this file, to keep (implies --redact).")


_run = {"debug": False}  # the global options of the command being run


@app.callback()
def options(
    debug: bool = typer.Option(False, "--debug", help="On an internal error, show its traceback."),
) -> None:
    _run["debug"] = debug


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> None:
    typer.echo(f"logcorr: {message}", err=True)
    raise typer.Exit(int(code))


@app.command()
def diagnose(
    path: Path = typer.Argument(..., help="A .zip, .tar, .tar.gz/.tgz, .gz, a folder or one log or capture file."),
    xlsx: Path = typer.Option(Path("logcorr-report.xlsx"), "--xlsx", help="Where to write the Excel report."),
    no_xlsx: bool = typer.Option(False, "--no-xlsx", help="Do not write the Excel report."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON diagnosis instead of the text."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="A folder of rules that add to or replace the shipped ones by id."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
    redact_map: Optional[Path] = REDACT_MAP,
    fail_on: Optional[Severity] = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above this severity exists."),
) -> None:
    """Read everything under PATH, print the diagnosis, write the Excel report."""
    from . import api
    from .report import excel, json_report, redact as redaction, terminal

    d = redaction.for_sharing(api.diagnose(path, tz=tz, rules=rules or ()), redact, redact_map)
    if not d.read.sources:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in d.read.skipped[:3]) or "no files"
        fail(f"nothing readable in {path} ({reasons})")
    for s in d.read.skipped:
        if "refused" in s.reason:
            typer.echo(f"logcorr: refused {s.name}: {s.reason}", err=True)
    if as_json:
        typer.echo(json_report.render(d))
    else:
        typer.echo(terminal.render(d, style=typer.style if sys.stdout.isatty() else None))
    if not no_xlsx:
        try:
            written = excel.write(d, xlsx)
        except OSError as e:
            fail(f"cannot write the Excel report {xlsx}: {e.strerror or e}")
        if not as_json:
            typer.echo(f"\nExcel report: {written}")
    if fail_on is not None:
        worst = d.worst()
        if worst is not None and worst >= fail_on:
            raise typer.Exit(int(ExitCode.FINDINGS))


@app.command()
def events(
    path: Path = typer.Argument(..., help="A bundle, folder or file, as for diagnose."),
    fmt: Format = typer.Option(Format.csv, "--format", help="csv, jsonl or parquet."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (stdout when absent, for csv/jsonl)."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
    redact_map: Optional[Path] = REDACT_MAP,
) -> None:
    """Write the normalised event table."""
    from . import api
    from .report import redact as redaction, table

    if fmt is Format.parquet and output is None:
        fail("--format parquet needs -o FILE")
    if fmt is Format.parquet and not table.parquet_available():
        fail("--format parquet needs pyarrow: pip install 'logcorr[parquet]' (or use csv/jsonl)")
    result = redaction.for_sharing(api.events(path, tz=tz), redact, redact_map)
    if not result.sources:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in result.skipped[:3]) or "no files"
        fail(f"nothing readable in {path} ({reasons})")
    table.write(result.events, fmt.value, output)
    typer.echo(f"logcorr: {len(result.events)} events from {len(result.sources)} file(s)"
               + (f", {len(result.skipped)} not read" if result.skipped else ""), err=True)


@app.command()
def ladder(
    path: Path = typer.Argument(..., help="A bundle, folder or file, as for diagnose."),
    call: Optional[str] = typer.Option(None, "--call", help="The Call-ID (or its start) of the call to draw; default: every presentation call."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="A folder of rules that add to or replace the shipped ones by id."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
    redact_map: Optional[Path] = REDACT_MAP,
) -> None:
    """Draw a call as a sequence diagram: one column per host, one row per message, findings marked."""
    from . import api
    from .report import ladder as ladder_report, redact as redaction

    d = redaction.for_sharing(api.diagnose(path, tz=tz, rules=rules or ()), redact, redact_map)
    if not d.read.sources:
        fail(f"nothing readable in {path}")
    if call:
        chosen = [c for c in d.calls if c.call_id.startswith(call)]
        if not chosen:
            fail(f"no call {call!r} in {path}; calls: " + ", ".join(c.call_id for c in d.calls[:10]))
    else:
        chosen = [c for c in d.calls if "applicationsharing" in c.media] or d.calls
    if not chosen:
        fail(f"no SIP call in {path}")
    drawing = ladder_report.Ladder(d.events, d.roles, d.findings)
    for c in chosen:
        rows = drawing.rows(c)
        typer.echo(ladder_report.render(rows, f"call {c.call_id} [{c.media or 'no SDP'}]: {c.summary}"))
        typer.echo("")


@app.command()
def show(
    path: Path = typer.Argument(..., help="The bundle, folder or file the diagnosis read."),
    positions: Optional[List[str]] = typer.Argument(None, help="FILE:POS as evidence names it, or a unique end of it: a log's line, a capture's frame."),
    call: Optional[str] = typer.Option(None, "--call", help="Every message of this call (its Call-ID or the start of it), in aligned time."),
    hex_dump: bool = typer.Option(False, "--hex", help="Add the bytes as a hex dump (the whole frame for a capture)."),
    password: Optional[str] = typer.Option(None, "--password", envvar="LOGCORR_STUN_PASSWORD", help="Check STUN MESSAGE-INTEGRITY with this password (ICE short-term or TURN long-term)."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
) -> None:
    """Print the full record at each position: the whole SIP message or log record; for a capture
    frame its addresses, time, TCP connection and each STUN/TURN message decoded attribute by attribute.

    Example: logcorr show case.zip syslog:184 tcpdump00_expe01.pcap:83 --hex

    Example: logcorr show case.zip --call 5f0c2a7e
    """
    from .report import show as show_report

    if hex_dump and redact:
        fail("--hex shows the bytes as they were captured and cannot be redacted: drop --hex or --redact")
    if not positions and not call:
        fail("name a position (FILE:POS, e.g. syslog:184) or a call (--call CALL-ID)")
    redactor = show_report.redaction(redact, path, tz)
    shown = show_report.show(path, positions or [], tz=tz, hex=hex_dump, redact=redactor, password=password)
    texts = shown.texts + ([show_report.call(path, call, tz=tz, hex=hex_dump, redact=redactor, password=password)] if call else [])
    if texts:
        typer.echo("\n\n".join(texts))
    for error in shown.errors:
        typer.echo(f"logcorr: {error}", err=True)
    if shown.errors:
        raise typer.Exit(int(ExitCode.USAGE))


@app.command()
def report(
    path: Path = typer.Argument(..., help="A bundle, folder or file, as for diagnose."),
    html: Path = typer.Option(..., "--html", help="Where to write the HTML report: one self-contained file."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="A folder of rules that add to or replace the shipped ones by id."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
) -> None:
    """Write the diagnosis as one HTML page: verdict, findings, each call's steps, a sequence
    diagram per presentation call, and the full message behind every arrow and piece of evidence."""
    from . import api
    from .report import html as html_report

    d = api.diagnose(path, tz=tz, rules=rules or ())
    if not d.read.sources:
        fail(f"nothing readable in {path}")
    typer.echo(f"HTML report: {html_report.write(d, path, html, tz=tz, redact=redact)}")


@rules_app.command("list")
def rules_list(
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="A folder of rules that add to or replace the shipped ones."),
) -> None:
    """The rule catalogue: id, severity, title."""
    from . import api
    from .rules import load_rules

    ruleset = load_rules(api.rule_dirs(rules or ()))
    for r in ruleset.rules:
        typer.echo(f"{r.id:<32} {r.severity:<8} {r.title}")


@rules_app.command("check")
def rules_check(
    directory: Optional[Path] = typer.Argument(None, help="The rules folder (default: the rules/ of the checkout you are in, else the shipped rules)."),
) -> None:
    """Validate rule files and run each rule's embedded examples."""
    from .rules import check_rules, checked_rules_dir

    folder = directory or checked_rules_dir()
    if not folder.is_dir():
        fail(f"{folder}: not a folder of rules")
    failures = check_rules([folder])
    for f in failures:
        typer.echo(f, err=True)
    if failures:
        typer.echo(f"logcorr: {len(failures)} problem(s) in {folder}", err=True)
        raise typer.Exit(int(ExitCode.FINDINGS))
    typer.echo(f"logcorr: every rule in {folder} is valid and its examples pass")


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; every error becomes one line on stderr and its exit code."""
    from .intake.archive import IntakeError
    from .rules import RuleError

    _run["debug"] = False
    try:
        rv = app(args=argv, prog_name="logcorr", standalone_mode=False)
        return rv if isinstance(rv, int) else int(ExitCode.OK)
    except (IntakeError, UsageError) as e:
        typer.echo(f"logcorr: {e}", err=True)
        return int(ExitCode.USAGE)
    except RuleError as e:
        for line in e.errors:
            typer.echo(line, err=True)
        typer.echo(f"logcorr: {len(e.errors)} problem(s) in the rules", err=True)
        return int(ExitCode.USAGE)
    except typer.Abort:
        return int(ExitCode.INTERRUPTED)
    except typer.TyperException as e:  # the command line's own usage errors: bad option, bad value
        show = getattr(e, "show", None)  # usage errors show the usage line and the problem
        show() if show else typer.echo(f"logcorr: {e.format_message()}", err=True)
        return int(ExitCode.USAGE)
    except Exception as e:  # a bug: one line, the traceback only when asked for
        if _run["debug"]:
            traceback.print_exc()
        first = (str(e).strip().splitlines() or [""])[0]
        typer.echo(f"logcorr: internal error: {type(e).__name__}: {first} (--debug shows where)", err=True)
        return int(ExitCode.INTERNAL)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the command line and exit with its code."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
