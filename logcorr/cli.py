"""The command line: a thin layer over logcorr.api. No traceback reaches the user unless --debug."""
from __future__ import annotations

import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import List, Optional, Sequence

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import ExitCode, UsageError
from .model import Severity

EXIT_CODES = ("Exit codes: 0 it ran; 1 --fail-on matched (rules check: a rule failed); "
              "2 unusable input or usage, one line on stderr; 3 an internal error (logcorr --debug ... shows where).")


class _CleanHelp:
    """--help shows names, not Python types: no `<bool>` after --help, and an argument that has a
    metavar (PATH, FILE:POS...) is not followed by its type (`<path>`, `<list[str]>`)."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option

    def get_params(self, ctx):
        params = super().get_params(ctx)  # type: ignore[misc]
        for p in params:
            if p.param_type_name == "argument" and p.metavar:
                p.display_type_rich = lambda ctx: None
        return params


class Command(_CleanHelp, TyperCommand):
    pass


class Group(_CleanHelp, TyperGroup):
    pass


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, cls=Group,
                  help="Diagnose CMS / Skype for Business presentation sharing through Expressway-E TURN.",
                  epilog="Example: logcorr diagnose case.zip\n\n" + EXIT_CODES)
rules_app = typer.Typer(no_args_is_help=True, help="The rule catalogue.", cls=Group, epilog=EXIT_CODES)
app.add_typer(rules_app, name="rules")


def command(*examples: str, app: typer.Typer = app, name: str | None = None):
    """A command whose --help ends with its examples and the exit codes."""
    epilog = "\n\n".join([*(f"Example: {e}" for e in examples), EXIT_CODES])
    return app.command(name, cls=Command, epilog=epilog)


class Format(str, Enum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


FLAG = ""  # the metavar of an option that takes no value
PATH = typer.Argument(..., metavar="PATH", help="A .zip, .tar, .tar.gz/.tgz, .gz, a folder or one log or capture file.")
TZ = typer.Option(None, "--tz", metavar="ZONE", help="Time zone for logs whose lines carry none (IANA name or +01:00).")
REDACT = typer.Option(False, "--redact", metavar=FLAG, help="Replace every address, host, domain, user, number, name and ICE credential in the output by a stable pseudonym (the diagnosis itself runs on the original data).")
REDACT_MAP = typer.Option(None, "--redact-map", metavar="FILE", help="Also write the pseudonym -> original table to this file, to keep (implies --redact).")
RULES = typer.Option(None, "--rules", metavar="DIR", help="A folder of rules that add to or replace the shipped ones by id.")
DEFAULT_XLSX = Path("logcorr-report.xlsx")


_run = {"debug": False}  # the global options of the command being run


def _version(value: bool) -> None:
    if value:
        from .model import tool_version

        typer.echo(f"logcorr {tool_version()}")
        raise typer.Exit(0)


@app.callback()
def options(
    debug: bool = typer.Option(False, "--debug", metavar=FLAG, help="On an internal error, show its traceback."),
    version: bool = typer.Option(False, "--version", metavar=FLAG, is_eager=True, callback=_version,
                                 help="Print the version and exit."),
) -> None:
    _run["debug"] = debug


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> None:
    typer.echo(f"logcorr: {message}", err=True)
    raise typer.Exit(int(code))


def output_file(path: Path, force: bool, what: str) -> Path:
    """Check before any work that `path` can be written: its folder exists (it is never created)
    and no file is there, unless `force`. Returns the path; a problem ends the command (exit 2)."""
    folder = path.parent
    if not folder.exists():
        fail(f"cannot write the {what} {path}: no folder {folder} (create it first)")
    if not folder.is_dir():
        fail(f"cannot write the {what} {path}: {folder} is not a folder")
    if path.exists() and not force:
        fail(f"the {what} {path} exists: --force overwrites it")
    return path


def _read_progress(as_json: bool):
    """The reading progress on stderr: silent when stderr is no terminal, and with --json."""
    from .report.console import ReadProgress

    return ReadProgress(sys.stderr, enabled=not as_json)


def _say_refused(d) -> None:
    for s in d.read.skipped:
        if "refused" in s.reason:
            typer.echo(f"logcorr: refused {s.name}: {s.reason}", err=True)


@command("logcorr diagnose case.zip", "logcorr diagnose case.zip --quiet --no-xlsx",
         "logcorr diagnose case.zip --json --xlsx out/case.xlsx --force")
def diagnose(
    path: Path = PATH,
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", metavar="FILE", help="Where to write the Excel report (default: logcorr-report.xlsx here; with --json: none unless given). Its folder must exist."),
    no_xlsx: bool = typer.Option(False, "--no-xlsx", metavar=FLAG, help="Do not write the Excel report."),
    html: Optional[Path] = typer.Option(None, "--html", metavar="FILE", help="Also write the HTML report (one self-contained page) to FILE. Its folder must exist."),
    force: bool = typer.Option(False, "--force", metavar=FLAG, help="Overwrite an existing report file (else exit 2 before reading)."),
    as_json: bool = typer.Option(False, "--json", metavar=FLAG, help="Print the JSON diagnosis instead of the text."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar=FLAG, help="Print the verdicts only: the diagnosis's and each call's."),
    call: Optional[str] = typer.Option(None, "--call", metavar="CALL-ID", help="Print only this call (its Call-ID or the start of it) and its findings."),
    color: Color = typer.Option(Color.auto, "--color", metavar="auto|always|never", help="Colour the text: auto follows NO_COLOR, FORCE_COLOR and whether stdout is a terminal."),
    rules: Optional[List[Path]] = RULES,
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
    redact_map: Optional[Path] = REDACT_MAP,
    fail_on: Optional[Severity] = typer.Option(None, "--fail-on", metavar="info|warning|error", help="Exit 1 when a finding at or above this severity exists."),
) -> None:
    """Read everything under PATH, print the diagnosis, write the Excel report."""
    from . import api
    from .report import excel, html as html_report, redact as redaction

    workbook = _workbook(xlsx, no_xlsx, as_json, force)
    page = output_file(html, force, "HTML report") if html is not None else None
    with _read_progress(as_json) as progress:
        original = api.diagnose(path, tz=tz, rules=rules or (), progress=progress)
    texts = html_report.fetch(original, path, tz) if page is not None else {}  # the page's full records
    d, redactor = redaction.sharing(original, redact, redact_map, also=texts.values())
    _readable(d.read, path)
    _say_refused(d)
    _print_diagnosis(d, path, as_json=as_json, quiet=quiet, call=call, color=color)
    if workbook is not None:
        _write(excel.write, d, workbook, "Excel report", say=not as_json and not quiet)
    if page is not None:  # one redactor for every output: a host has one pseudonym in all of them
        _write(lambda shared, target: html_report.write_page(shared, html_report.redacted(texts, redactor), target,
                                                             redacted=redactor is not None),
               d, page, "HTML report", say=not as_json and not quiet)
    if fail_on is not None and d.worst() is not None and d.worst() >= fail_on:
        raise typer.Exit(int(ExitCode.FINDINGS))


def _workbook(xlsx: Path | None, no_xlsx: bool, as_json: bool, force: bool) -> Path | None:
    """Where the workbook goes: --xlsx, else the default unless --json or --no-xlsx; checked."""
    if xlsx is not None and no_xlsx:
        fail("--xlsx and --no-xlsx say opposite things: give one")
    if no_xlsx or (as_json and xlsx is None):
        return None
    return output_file(xlsx or DEFAULT_XLSX, force, "Excel report")


def _readable(read, path: Path) -> None:
    if not read.sources:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in read.skipped[:3]) or "no files"
        fail(f"nothing readable in {path} ({reasons})")


def _print_diagnosis(d, path: Path, as_json: bool, quiet: bool, call: str | None, color: Color) -> None:
    from .report import console, json_report, terminal

    if call and not terminal.chosen_calls(d, call):
        fail(f"no call {call!r} in {path}; calls: " + ", ".join(c.call_id for c in d.calls[:10]))
    if as_json:
        typer.echo(json_report.render(d))
        return
    out = console.console(sys.stdout, console.colour_wanted(color.value, sys.stdout))
    terminal.show(out, d, quiet=quiet, call=call)


def _write(writer, d, target: Path, what: str, say: bool) -> None:
    """Write the report `what` with `writer(d, target)` (the target checked by output_file first)
    and name it on stdout when `say`."""
    try:
        written = writer(d, target)
    except OSError as e:
        fail(f"cannot write the {what} {target}: {e.strerror or e}")
    if say:
        typer.echo(f"\n{what}: {written}")


@command("logcorr events case.zip -o events.csv", "logcorr events case.zip --format jsonl | head")
def events(
    path: Path = typer.Argument(..., metavar="PATH", help="A bundle, folder or file, as for diagnose."),
    fmt: Format = typer.Option(Format.csv, "--format", metavar="csv|jsonl|parquet", help="csv, jsonl or parquet."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE", help="Output file (stdout when absent, for csv/jsonl)."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
    redact_map: Optional[Path] = REDACT_MAP,
) -> None:
    """Write the normalised event table."""
    from dataclasses import replace

    from . import api
    from .events import rawtext
    from .report import redact as redaction, table

    if fmt is Format.parquet and output is None:
        fail("--format parquet needs -o FILE")
    if fmt is Format.parquet and not table.parquet_available():
        fail("--format parquet needs pyarrow: pip install 'logcorr[parquet]' (or use csv/jsonl)")
    with _read_progress(False) as progress:
        result = api.events(path, tz=tz, progress=progress)
        result = redaction.for_sharing(replace(result, events=rawtext.with_raw(result.events)), redact, redact_map)
    _readable(result, path)
    table.write(result.events, fmt.value, output)
    typer.echo(f"logcorr: {len(result.events)} events from {len(result.sources)} file(s)"
               + (f", {len(result.skipped)} not read" if result.skipped else ""), err=True)


@command("logcorr ladder case.zip --call 5f0c2a7e")
def ladder(
    path: Path = typer.Argument(..., metavar="PATH", help="A bundle, folder or file, as for diagnose."),
    call: Optional[str] = typer.Option(None, "--call", metavar="CALL-ID", help="The Call-ID (or its start) of the call to draw; default: every presentation call."),
    rules: Optional[List[Path]] = RULES,
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


@command("logcorr show case.zip syslog:184 tcpdump00_expe01.pcap:83 --hex", "logcorr show case.zip --call 5f0c2a7e")
def show(
    path: Path = typer.Argument(..., metavar="PATH", help="The bundle, folder or file the diagnosis read."),
    positions: Optional[List[str]] = typer.Argument(None, metavar="FILE:POS...", help="FILE:POS as evidence names it, or a unique end of it: a log's line, a capture's frame."),
    call: Optional[str] = typer.Option(None, "--call", metavar="CALL-ID", help="Every message of this call (its Call-ID or the start of it), in aligned time."),
    hex_dump: bool = typer.Option(False, "--hex", metavar=FLAG, help="Add the bytes as a hex dump (the whole frame for a capture)."),
    password: Optional[str] = typer.Option(None, "--password", metavar="PASSWORD", envvar="LOGCORR_STUN_PASSWORD", help="Check STUN MESSAGE-INTEGRITY with this password (ICE short-term or TURN long-term)."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
) -> None:
    """Print the full record at each position: the whole SIP message or log record; for a capture
    frame its addresses, time, TCP connection and each STUN/TURN message decoded attribute by attribute."""
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


@command("logcorr report case.zip --html case.html", "logcorr report case.zip --html shared.html --redact")
def report(
    path: Path = typer.Argument(..., metavar="PATH", help="A bundle, folder or file, as for diagnose."),
    html: Path = typer.Option(..., "--html", metavar="FILE", help="Where to write the HTML report: one self-contained file."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="A folder of rules that add to or replace the shipped ones by id."),
    tz: Optional[str] = TZ,
    redact: bool = REDACT,
    force: bool = typer.Option(False, "--force", metavar=FLAG, help="Overwrite an existing file."),
) -> None:
    """Write the diagnosis as one HTML page: verdict, findings, each call's steps, a sequence
    diagram per presentation call, and the full message behind every arrow and piece of evidence."""
    from . import api
    from .report import html as html_report

    target = output_file(html, force, "HTML report")
    d = api.diagnose(path, tz=tz, rules=rules or ())
    _readable(d.read, path)
    typer.echo(f"HTML report: {html_report.write(d, path, target, tz=tz, redact=redact)}")


@command("logcorr rules list --rules my-rules/", app=rules_app, name="list")
def rules_list(
    rules: Optional[List[Path]] = RULES,
) -> None:
    """The rule catalogue: id, severity, title."""
    from . import api
    from .rules import load_rules

    ruleset = load_rules(api.rule_dirs(rules or ()))
    for r in ruleset.rules:
        typer.echo(f"{r.id:<32} {r.severity:<8} {r.title}")


@command("logcorr rules check my-rules/", app=rules_app, name="check")
def rules_check(
    directory: Optional[Path] = typer.Argument(None, metavar="DIR", help="The rules folder (default: the rules/ of the checkout you are in, else the shipped rules)."),
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
