"""What every document needs: the plan and its people, names of places, masking, Excel and PDF.

Documents read only a plan directory (``docs/plan-format.md``) and its scenario's
validated tables (for names, ID numbers and phones, which the plan files do not
hold), never solver internals. Personal data goes only into the files whose
readers need it and never into logs or error messages.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from planner.plan_format import PlanFiles, read_plan
from planner.errors import DataError, PlannerError
from planner.scenario import Scenario

log = logging.getLogger(__name__)

# Debian's fonts-noto-cjk; index 2 of the collection is Simplified Chinese (Noto Sans CJK SC)
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
CJK_COLLECTION_INDEX = 2
FONT_ENV = "PLANNER_CJK_FONT"


def cjk_font() -> tuple[str, int]:
    """(path, collection index) of a font with Simplified Chinese glyphs, to embed in PDFs.

    ``$PLANNER_CJK_FONT`` may name a .ttf/.otf (index 0) or .ttc (index 2) file.
    Raises DataError with the install hint when no font is found.
    """
    env = os.environ.get(FONT_ENV)
    if env:
        if not Path(env).is_file():
            msg = f"{FONT_ENV}={env}: 字体文件不存在 (font file not found)"
            raise DataError(msg)
        return env, CJK_COLLECTION_INDEX if env.lower().endswith(".ttc") else 0
    for path in CJK_FONT_CANDIDATES:
        if Path(path).is_file():
            return path, CJK_COLLECTION_INDEX
    msg = ("找不到中文字体，PDF 无法生成；请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）"
           f"或设置 {FONT_ENV} (no CJK font: install Debian's fonts-noto-cjk or set {FONT_ENV})")
    raise DataError(msg)


def mask_id(id_number: str) -> str:
    """An 18-digit resident ID as its first 6 and last 4 characters, the rest starred."""
    s = str(id_number or "")
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


@dataclass
class DocData:
    """A plan with the people and places its documents name.

    ``people`` is indexed by ``worker_id`` with ``name``, ``id_number``,
    ``phone``, ``health_proof``, ``proof_date``, ``group_id`` (from the scenario's
    accepted worker rows). ``places`` maps every place id (village code, hub,
    factory, station) to its Chinese name; ``factories`` is indexed by
    ``factory_id`` (name, province, city, arrival_station_id); ``townships`` maps
    township code to name when the geodata has one. ``tables`` holds every
    validated scenario table (accepted rows only), for documents that need more.
    """

    scenario: Scenario
    plan: PlanFiles
    people: pd.DataFrame
    places: dict[str, str]
    factories: pd.DataFrame
    villages: pd.DataFrame
    townships: dict[str, str]
    tables: dict[str, pd.DataFrame]
    #: name, id_number, phone of every worker row read (accepted and rejected), indexed by its input row
    #: (``source_row`` of workers.csv): the exception lists name rejected rows too
    people_by_row: pd.DataFrame | None = None
    #: the vehicle register (``vehicles`` table) indexed by vehicle_id, empty when the scenario has none
    vehicles: pd.DataFrame = field(default_factory=pd.DataFrame)


def memo(data: DocData, name: str, make: Callable[[], object]) -> object:
    """``make()`` once per plan: what several documents of an export compute alike (kept on ``data``)."""
    store = data.__dict__.setdefault("_memo", {})
    if name not in store:
        store[name] = make()
    return store[name]


def person_fields(data: DocData) -> dict[str, tuple[str, str, str]]:
    """Worker id -> (name, id_number, phone) as text ('' when missing); the first row of a duplicated id."""
    def make() -> dict[str, tuple[str, str, str]]:
        people = data.people
        cols = [people[c].map(cell_text).tolist() if c in people.columns else [""] * len(people)
                for c in ("name", "id_number", "phone")]
        out: dict[str, tuple[str, str, str]] = {}
        for wid, name, idn, phone in zip(people.index.astype(str), *cols):
            out.setdefault(wid, (name, idn, phone))
        return out
    return memo(data, "person_fields", make)


def load_doc_data(plan_dir: Path, scenario_path: Path, *, progress=None) -> DocData:
    """Read a plan directory and the scenario tables the documents need.

    The plan goes through :func:`planner.plan_format.read_plan`: a directory
    that is incomplete or mixes files of two runs is refused with a
    PlanFormatError naming the file, never read as a plan.
    """
    from planner.loader import load_and_validate

    plan = read_plan(Path(plan_dir))
    sc, val = load_and_validate(scenario_path, progress=progress)
    t = val.tables
    w = t["workers"]
    cols = [c for c in ("name", "id_number", "phone", "health_proof", "proof_date", "group_id") if c in w.columns]
    people = w.set_index(w["worker_id"].astype(str))[cols].copy()
    places: dict[str, str] = {}
    v = t["villages"]
    places.update(zip(v["village_code"].astype(str), v["village_name"].astype(str)))
    h = t["hubs"]
    places.update(zip(h["hub_id"].astype(str), h["name"].astype(str)))
    f = t["factories"]
    places.update(zip(f["factory_id"].astype(str), f["name"].astype(str)))
    st = t.get("stations")
    if st is not None and len(st):
        places.update(zip(st["station_id"].astype(str), st["name"].astype(str)))
    places["REST"] = "服务区"
    factories = f.set_index(f["factory_id"].astype(str))
    townships = _township_names(sc)
    by_row = _people_by_row(w, val.rejected.get("workers"))
    reg = t.get("vehicles")
    vehicles = reg.set_index(reg["vehicle_id"].astype(str)) if reg is not None and len(reg) else pd.DataFrame()
    return DocData(sc, plan, people, places, factories, v.set_index(v["village_code"].astype(str)), townships, t,
                   by_row, vehicles)


def _people_by_row(accepted: pd.DataFrame, rejected: pd.DataFrame | None) -> pd.DataFrame:
    """name, id_number, phone of accepted and rejected worker rows, indexed by input row number."""
    cols = ["name", "id_number", "phone"]
    parts = []
    for frame in (accepted, rejected):
        if frame is None or "_row" not in frame.columns or not len(frame):
            continue
        part = pd.DataFrame({c: (frame[c].astype(str) if c in frame.columns else "") for c in cols})
        part.index = frame["_row"].astype(int).to_numpy()
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts)
    return out[~out.index.duplicated(keep="first")]


def _township_names(sc: Scenario) -> dict[str, str]:
    """Township code -> name from a ``townships.csv`` beside the villages file, when there is one."""
    villages = sc.file_specs().get("villages")
    if villages is None:
        return {}
    path = Path(villages.path).with_name("townships.csv")
    if not path.is_file():
        return {}
    tw = pd.read_csv(path, dtype=str)
    if not {"township_code", "township_name"} <= set(tw.columns):
        return {}
    return dict(zip(tw["township_code"], tw["township_name"]))



_SAFE_CODE = re.compile(r"^[0-9A-Za-z_-]+$")


def cell_text(value: object) -> str:
    """A plan or table value as the text a document shows: '' for every kind of missing value."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    s = str(value)
    return "" if s in ("nan", "None", "NaT", "<NA>") else s


def safe_codes(codes: object, what: str) -> list[str]:
    """The township / county codes of a request as text, refused (ValueError, in Chinese) before
    anything is written when one could not be part of a file name in the output folder."""
    out = [str(c) for c in codes]
    for code in out:
        if not _SAFE_CODE.match(code):
            msg = f"{what}代码无效：{code[:40]!r} (invalid code)"
            raise ValueError(msg)
    return out

def local_time(ts) -> str:
    """A plan time as 'MM-DD HH:MM' local, or '' for none."""
    if ts is None or pd.isna(ts):
        return ""
    return pd.Timestamp(ts).strftime("%m-%d %H:%M")


# ------------------------------------------------------------------ writing files
@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write into; moved onto ``path`` only when the block succeeds.

    A reader never sees a half-written document, and a failed write leaves the
    previous file (if any) as it was and no temporary file behind. The
    temporary name keeps the real suffix (writers that look at it still work)
    and is hidden (starts with a dot). The content is fsync'd before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem[:50]}.{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class FailedDocument(NamedTuple):
    """A document that could not be written, and why (Chinese, no personal data)."""

    path: Path
    reason: str


class ExportError(PlannerError):
    """Some documents of an export could not be written; every other one was.

    ``written`` lists the files written, ``failed`` the ones that were not, each
    with its reason. The message names the failed files only.
    """

    def __init__(self, written: list[Path], failed: list[FailedDocument]) -> None:
        self.written = list(written)
        self.failed = list(failed)
        lines = "；".join(f"{f.path.name}：{f.reason}" for f in self.failed)
        super().__init__(f"{len(self.failed)} 个文件未能生成（其余 {len(self.written)} 个已写出）：{lines}")


def failure_reason(exc: BaseException) -> str:
    """Why a document failed, for the user: our own messages in full, otherwise only the kind of error.

    Messages of unexpected exceptions may quote cell values (names, ID
    numbers), so they are not repeated.
    """
    if isinstance(exc, PlannerError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"无法写入文件（{exc.strerror or type(exc).__name__}）"
    return f"程序错误（{type(exc).__name__}），请报告此问题"


@dataclass
class DocumentBatch:
    """Writes several documents one by one; a failing document does not stop the others.

    Use :meth:`write` for each document, then :meth:`result`, which returns the
    paths written or raises :class:`ExportError` naming the ones that failed.
    """

    written: list[Path] = field(default_factory=list)
    failed: list[FailedDocument] = field(default_factory=list)
    #: called with (path, written?) after each file, for a progress bar
    on_file: Callable[[Path, bool], None] | None = None

    def write(self, path: Path, writer: Callable[[Path], Path]) -> None:
        """Call ``writer(path)``; remember the path written, or the failure."""
        try:
            self.written.append(Path(writer(Path(path))))
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the export
            self.fail([path], exc)
            return
        if self.on_file is not None:
            self.on_file(self.written[-1], True)

    def fail(self, paths: list[Path], exc: BaseException) -> None:
        """Record ``paths`` as not written because of ``exc``."""
        reason = failure_reason(exc)
        log.warning("document not written (%s): %s", type(exc).__name__, ", ".join(Path(p).name for p in paths))
        self.failed += [FailedDocument(Path(p), reason) for p in paths]
        if self.on_file is not None:
            for p in paths:
                self.on_file(Path(p), False)

    def result(self) -> list[Path]:
        """The paths written; :class:`ExportError` when any document failed."""
        if self.failed:
            raise ExportError(self.written, self.failed)
        return list(self.written)


#: Cell starts that a spreadsheet program may run as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_safe_text(value: object) -> object:
    """A text cell that starts like a formula, with a leading ``'`` so Excel shows it as text.

    Anything that is not a string is returned unchanged. Leading spaces are
    looked through (``' =1+1'`` is also neutralised).
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def excel_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers pass :func:`excel_safe_text`, for CSVs people open."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(excel_safe_text)
    out.columns = [excel_safe_text(c) for c in out.columns]
    return out


def write_csv_for_people(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as a CSV for Excel: UTF-8 with a BOM, formula-like cells neutralised, atomically."""
    with atomic_output(Path(path)) as tmp:
        excel_safe_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


#: Workbook options for every workbook the planner writes: text from input data stays text.
#: (xlsxwriter would otherwise turn '=...' into a live formula and 'http://...' into a link.)
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def print_setup(ws, title: str, n_rows: int, n_cols: int) -> None:
    """Print settings of a worksheet: frozen header, filter, A4 landscape, header row and title on each page."""
    if n_cols:
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(n_rows, 1), n_cols - 1)
        ws.repeat_rows(0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    # the page header is limited to 255 characters by Excel, '&' escaped
    ws.set_header(f"&C{ellipsis(title, 120).replace('&', '&&')}")
    ws.set_footer("&C第 &P 页，共 &N 页")


def ellipsis(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters, the last one '…' when cut."""
    text = str(text)
    return text if len(text) <= max_chars else text[: max(max_chars - 1, 0)] + "…"


#: Excel number formats of the cells :func:`write_excel` stores as dates and times
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TIME_FORMAT = "hh:mm"


def write_excel(path: Path, sheets: dict[str, pd.DataFrame], *, title: str,
                finish: Callable[[object], None] | None = None,
                formats: dict[str, str] | None = None) -> Path:
    """Write sheets for printing: frozen header, filters, A4 landscape, header on every page.

    ``title`` goes in the printed page header. Sheet names are cut to Excel's 31
    characters. ``finish`` receives the xlsxwriter workbook after the sheets are
    written, to add more (charts) before the file is closed. Every string is
    stored as text (:data:`XLSX_OPTIONS`: a name typed as ``=HYPERLINK(...)`` is
    never a formula). Numbers are stored as numbers, ``datetime.date`` values
    as dates, datetimes and Timestamps (timezone-free, local) as date-times,
    ``datetime.time`` values as times; ``formats`` maps a column name to the
    Excel number format of its dates or times (default :data:`DATE_FORMAT`,
    :data:`DATETIME_FORMAT`, :data:`TIME_FORMAT`). Missing values are empty
    cells. The file is written atomically (:func:`atomic_output`).
    """
    import datetime as dt

    import xlsxwriter

    path = Path(path)
    formats = formats or {}
    with atomic_output(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        fmt_cache: dict[str, object] = {}

        def fmt(spec: str):  # noqa: ANN202 - an xlsxwriter Format
            if spec not in fmt_cache:
                fmt_cache[spec] = book.add_format({"num_format": spec})
            return fmt_cache[spec]

        for name, frame in sheets.items():
            ws = book.add_worksheet(name[:31])
            for j, col in enumerate(frame.columns):
                ws.write_string(0, j, str(col), head)
                _write_column(ws, j, frame[col], formats.get(str(col)), fmt, dt)
                values = frame[col].head(500).map(_shown_text)
                width = max([len(str(col))] + [len(x) for x in values]) if len(frame) else len(str(col))
                ws.set_column(j, j, min(40, max(6, width * 1.6 + 2)))
            print_setup(ws, title, len(frame), len(frame.columns))
        if finish is not None:
            finish(book)
        book.close()
    return path


def as_dates(s: pd.Series) -> pd.Series:
    """Text dates ('2020-02-14') as ``datetime.date`` values for a workbook; other text stays as it is."""
    parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    return pd.Series([d.date() if not pd.isna(d) else v for d, v in zip(parsed, s)], index=s.index, dtype=object)


def local_naive(s: pd.Series) -> pd.Series:
    """Plan times (timezone-aware) as local timezone-free Timestamps, for a workbook's date-time cells."""
    s = pd.to_datetime(s)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return s


def _shown_text(v: object) -> str:
    """About what a cell shows, for the column width."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    return str(v)


def _write_column(ws, j: int, s: pd.Series, spec: str | None, fmt, dt) -> None:  # noqa: ANN001
    """One column of a sheet from row 1 on, each cell by the type of its value."""
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        only_days = bool((s.dropna() == s.dropna().dt.normalize()).all())
        f = fmt(spec or (DATE_FORMAT if only_days else DATETIME_FORMAT))
        for i, v in enumerate(s, 1):
            if pd.isna(v):
                continue
            ws.write_datetime(i, j, v.to_pydatetime(), f)
        return
    if pd.api.types.is_bool_dtype(s):
        for i, v in enumerate(s, 1):
            ws.write_boolean(i, j, bool(v))
        return
    if pd.api.types.is_numeric_dtype(s):
        for i, v in enumerate(s, 1):
            if not pd.isna(v):
                ws.write_number(i, j, float(v) if isinstance(v, float) else int(v))
        return
    for i, v in enumerate(s, 1):
        if v is None or v is pd.NaT:
            continue
        if isinstance(v, str):
            if v:
                ws.write_string(i, j, v)
        elif isinstance(v, (pd.Timestamp, dt.datetime)):
            if not pd.isna(v):
                v = pd.Timestamp(v)
                if v.tzinfo is not None:
                    v = v.tz_convert("Asia/Shanghai").tz_localize(None)
                ws.write_datetime(i, j, v.to_pydatetime(), fmt(spec or DATETIME_FORMAT))
        elif isinstance(v, dt.date):
            ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), fmt(spec or DATE_FORMAT))
        elif isinstance(v, dt.time):
            ws.write_datetime(i, j, v, fmt(spec or TIME_FORMAT))
        elif isinstance(v, bool):
            ws.write_boolean(i, j, v)
        elif isinstance(v, (int, float)):
            if not (isinstance(v, float) and math.isnan(v)):
                ws.write_number(i, j, v)
        else:
            ws.write_string(i, j, str(v))


_MISSING_TEXT = frozenset(("nan", "None", "NaT", "<NA>"))


def _shown_cell(text: str) -> str:
    """A cell's text as a PDF table shows it: the text of a missing value is empty."""
    return "" if text in _MISSING_TEXT else text


#: Lines a table cell of a PDF may take before it is cut with '…' (a row always fits a page).
PDF_CELL_LINES = 4
#: Printed lines a paragraph line of :meth:`CjkPdf.text` may take before it is cut.
PDF_TEXT_LINES = 3


#: parsed fonts kept for the next document of the process: (path, index) -> a pristine fpdf2 TTFFont
_FONT_TEMPLATES: dict[tuple[str, int], object] = {}


def _clone_font(src, pdf, fontkey: str):  # noqa: ANN001, ANN202 - fpdf2 TTFFont objects
    """A fresh TTFFont for ``pdf`` sharing the parsed tables (cmap, widths, glyph ids) of ``src``.

    Only the per-document parts are new: the fontTools font (opened lazily,
    because the PDF output subsets it in place), the subset map and the counters.
    """
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap

    new = object.__new__(type(src))
    for cls in type(src).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if hasattr(src, slot):
                setattr(new, slot, getattr(src, slot))
    new.i = len(pdf.fonts) + 1
    new.fontkey = fontkey
    # no bounding boxes recomputed on save (every glyph drawn, 40 % of the output time): the face's own are kept
    new.ttfont = ttLib.TTFont(src.ttffile, recalcTimestamp=False, recalcBBoxes=False,
                              fontNumber=src.collection_font_number, lazy=True)
    new._hbfont = None
    new.biggest_size_pt = 0
    new.missing_glyphs = []
    new.subset = SubsetMap(new)
    return new


def add_cached_font(pdf, family: str, path: str, index: int) -> None:  # noqa: ANN001 - an fpdf2 FPDF
    """``pdf.add_font(family, fname=path, collection_font_number=index)``, parsing the font once per process.

    Parsing the CJK font's cmap and widths takes about 0.3 s a document; the
    first document parses it, the next ones reuse the parsed tables. Falls back
    to a plain ``add_font`` if this fpdf2 version's font objects differ.
    """
    key = (str(path), int(index))
    fontkey = family.lower()
    tpl = _FONT_TEMPLATES.get(key)
    if tpl is not None:
        try:
            pdf.fonts[fontkey] = _clone_font(tpl, pdf, fontkey)
            if getattr(tpl, "is_cff", False) and getattr(tpl, "is_cid_keyed", False):
                pdf._set_min_pdf_version("1.6")  # noqa: SLF001 - what add_font does for CID-keyed CFF fonts
            return
        except Exception:  # noqa: BLE001 - another fpdf2 version: parse the font as usual
            _FONT_TEMPLATES.pop(key, None)
            pdf.fonts.pop(fontkey, None)
    pdf.add_font(family, fname=path, collection_font_number=index)
    try:
        _FONT_TEMPLATES[key] = _clone_font(pdf.fonts[fontkey], pdf, fontkey)
    except Exception:  # noqa: BLE001 - no cache, every document parses the font
        pass


#: glyph widths in mm per face, (style, size) and character, for every document of the process
_CHAR_WIDTHS: dict[tuple[str, int], dict[tuple[str, float], dict[str, float]]] = {}

#: placeholder fpdf2 replaces by the number of pages when the PDF is written
PAGES_ALIAS = "{nb}"


def page_label(page: int) -> str:
    """The footer's page number: '第 3 页 / 共 {nb} 页' (the total filled in by fpdf2 at output)."""
    return f"第 {page} 页 / 共 {PAGES_ALIAS} 页"


class CjkPdf:
    """An A4 landscape PDF with an embedded Chinese font, tables whose header repeats on each page.

    Built on fpdf2. Use :meth:`heading`, :meth:`text`, :meth:`table` and
    :meth:`signatures`, then :meth:`save`. Text longer than its place (a
    5,000-character name, a very long village or employer name) is cut with
    '…' (:meth:`fit`), so no row is ever taller than a page.
    """

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        path, index = cjk_font()
        self.pdf = FPDF(orientation="L", unit="mm", format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=12)
        # one face only: fpdf2 embeds (and subsets) every face added, used or not; headings use size and fill
        add_cached_font(self.pdf, "cjk", path, index)
        self.pdf.set_title(ellipsis(title, 200))
        self.pdf.set_font("cjk", size=9)
        self.title = title
        #: glyph widths (mm) per (style, size) and character: the same face in every document, so shared
        self._char_widths = _CHAR_WIDTHS.setdefault((path, index), {})
        #: a text's ``(<codes>) Tj`` operand in this document's subset encoding (codes are assigned once)
        self._encoded: dict[str, str] = {}
        self._plain_ok = False
        #: text before the page number in the footer of every page ("第 N 页 / 共 M 页")
        self.footer_prefix = ""
        self.pdf.alias_nb_pages(PAGES_ALIAS)
        self.pdf.footer = self._footer  # fpdf2 calls self.footer() at the end of each page

    def _footer(self) -> None:
        p = self.pdf
        p.set_y(-10)
        p.set_font("cjk", size=7)
        prefix = f"{self.footer_prefix}　" if self.footer_prefix else ""
        p.cell(0, 5, self.fit(prefix, p.epw - 30) + page_label(p.page_no()), align="C")
        p.set_font("cjk", size=9)

    def fit(self, text: str, width: float, max_lines: int = 1) -> str:
        """``text`` cut with '…' so that it fills at most ``max_lines`` lines of ``width`` mm in the current font.

        Line breaks in ``text`` are kept; each starts a new line. The estimate
        leaves a tenth of each line for word wrapping.
        """
        text = str(text)
        p = self.pdf
        room = max(width - 2 * p.c_margin, 1.0) * 0.9
        if "\n" not in text and len(text) * p.font_size <= room * 0.95:
            return text  # fits whatever the characters: none is wider than 1 em (the font size, in mm)
        out: list[str] = []
        used = 0
        for line in str(text).split("\n"):
            need = max(1, math.ceil(p.get_string_width(line) / room))
            if used + need <= max_lines:
                out.append(line)
                used += need
                continue
            budget = (max_lines - used) * room - p.get_string_width("…")
            if budget <= 0:  # no room left for this line: end the previous one with '…'
                if out:
                    out[-1] = out[-1][:-1] + "…" if out[-1] else "…"
                break
            lo, hi = 0, len(line)  # longest prefix that fits: binary search
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if p.get_string_width(line[:mid]) <= budget:
                    lo = mid
                else:
                    hi = mid - 1
            out.append(line[:lo] + "…")
            break
        return "\n".join(out)

    def page(self) -> None:
        """Start a new page with the document title on top."""
        self.pdf.add_page()
        self.pdf.set_font("cjk", size=13)
        self.pdf.cell(0, 8, self.fit(self.title, self.pdf.epw), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("cjk", size=9)

    def heading(self, text: str) -> None:
        self.pdf.set_font("cjk", size=11)
        self.pdf.cell(0, 7, self.fit(text, self.pdf.epw), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("cjk", size=9)

    def text(self, text: str) -> None:
        """A paragraph; each of its lines is cut after :data:`PDF_TEXT_LINES` printed lines.

        Lines are broken by :meth:`wrap` and drawn directly (a new page when the
        bottom margin is reached), much faster than fpdf2's ``multi_cell``.
        """
        p = self.pdf
        size = p.font_size_pt
        line_h = 5.0
        bottom = p.h - p.b_margin
        y = p.get_y()
        self._plain_ok = self._plain_text()
        ops: list[str] = []
        for para in str(text).split("\n"):
            for line in self.wrap(para, p.epw, PDF_TEXT_LINES, size=size):
                if y + line_h > bottom:
                    self._flush(ops)
                    p.add_page()
                    p.set_font("cjk", size=size)
                    y = p.get_y()
                if line:
                    self._text_op(ops, p.l_margin + p.c_margin, y + line_h * 0.72, line)
                y += line_h
        self._flush(ops)
        p.set_xy(p.l_margin, y)

    # ---- drawing without fpdf2's per-call overhead; the content stream is the same, byte for byte
    def _plain_text(self) -> bool:
        """Whether :meth:`_text_op` may stand in for ``FPDF.text`` (what it does in this state, nothing more)."""
        from fpdf.enums import TextMode

        p = self.pdf
        return (p.text_mode == TextMode.FILL and not p.underline and not p.strikethrough
                and not p._record_text_quad_points and p.is_ttf_font)  # noqa: SLF001

    def _text_op(self, ops: list[str], x: float, y: float, text: str) -> None:
        """Append to ``ops`` what ``FPDF.text(x, y, text)`` writes to the page (font, colour, text)."""
        p = self.pdf
        if not self._plain_ok:
            self._flush(ops)
            p.text(x, y, text)
            return
        if not p.current_font_is_set_on_page:
            ops.append(p._set_font_for_page(p.current_font, p.font_size_pt))  # noqa: SLF001
        enc = self._encoded.get(text)
        if enc is None:
            enc = self._encoded[text] = p.current_font.encode_text(text)
        op = f"BT {x * p.k:.2f} {(p.h - y) * p.k:.2f} Td {enc} ET"
        if p.fill_color != p.text_color:
            op = f"q {p.text_color.serialize().lower()} {op} Q"
        ops.append(op)

    def _flush(self, ops: list[str]) -> None:
        """Write the collected operators to the page (as separate ``_out`` calls would) and empty ``ops``."""
        if ops:
            self.pdf._out("\n".join(ops))  # noqa: SLF001
            ops.clear()


    def table(self, frame: pd.DataFrame, widths: list[float] | None = None, *, size: float = 8,
              max_lines: int = PDF_CELL_LINES) -> None:
        """A table of ``frame`` (all cells as text); the header row repeats after a page break.

        Each cell is cut with '…' after ``max_lines`` lines of its column. The
        table is drawn directly (cell borders and text lines, lines broken by
        :meth:`wrap` from cached glyph widths): fpdf2's own table lays out every
        cell with its full line breaker, about 50 times slower on a list of
        thousands of people.
        """
        columns = [[_shown_cell(x) for x in frame.iloc[:, j].astype(str).tolist()] for j in range(frame.shape[1])]
        self.table_rows([str(c) for c in frame.columns], zip(*columns) if columns else [()] * len(frame),
                        widths, size=size, max_lines=max_lines)

    def table_rows(self, cols: list[str], rows: Iterable[Sequence[str]], widths: list[float] | None = None, *,
                   size: float = 8, max_lines: int = PDF_CELL_LINES) -> None:
        """:meth:`table` of rows already as text (a cell 'nan', 'None', 'NaT' or '<NA>' is shown empty)."""
        p = self.pdf
        p.set_font("cjk", size=size)
        if widths is None:
            widths = [1.0] * len(cols)
        total = sum(widths)
        col_widths = [p.epw * w / total for w in widths]
        line_h = size * 0.55
        pad = p.c_margin

        def lines_of(values: list[str], style: str) -> tuple[list[list[str]], float]:
            p.set_font("cjk", style=style, size=size)
            cells = [self.wrap(v, w, max_lines, style=style, size=size) for v, w in zip(values, col_widths)]
            return cells, max(len(c) for c in cells) * line_h + 2 * pad * 0.5 if cells else line_h

        head_cells, head_h = lines_of(cols, "")

        ops: list[str] = []
        k_, page_h = p.k, p.h
        self._plain_ok = self._plain_text()

        def draw(cells: list[list[str]], h: float, style: str, fill: bool) -> None:
            # what p.rect(x, y0, w, h, style) and p.text(...) per cell would write, collected in ops
            p.set_font("cjk", style=style, size=size)
            x0, y0 = p.l_margin, p.get_y()
            x = x0
            op = "B" if fill else "S"  # RenderStyle DF / D
            top, hk = f"{(page_h - y0) * k_:.2f}", f"{-h * k_:.2f}"
            for lines, w in zip(cells, col_widths):
                ops.append(f"{x * k_:.2f} {top} {w * k_:.2f} {hk} re {op}")
                for k, line in enumerate(lines):
                    if line:
                        self._text_op(ops, x + pad, y0 + pad * 0.5 + line_h * k + line_h * 0.78, line)
                x += w
            p.set_xy(x0, y0 + h)

        p.set_fill_color(230, 236, 244)
        p.set_draw_color(120, 120, 120)
        p.set_line_width(0.2)
        bottom = p.h - p.b_margin
        if p.get_y() + head_h + line_h * 2 > bottom:
            p.add_page()
        draw(head_cells, head_h, "", True)
        for texts in rows:
            cells, h = lines_of([_shown_cell(x) for x in texts], "")
            if p.get_y() + h > bottom:
                self._flush(ops)
                p.add_page()
                draw(head_cells, head_h, "", True)
            draw(cells, h, "", False)
        self._flush(ops)
        p.set_font("cjk", size=9)
        p.ln(2)

    def wrap(self, text: str, width: float, max_lines: int, *, style: str = "", size: float | None = None) -> list[str]:
        """``text`` broken into the lines of a ``width`` mm cell (at most ``max_lines``, the last cut with '…').

        Breaks between any two characters (Chinese text has no spaces), at
        line breaks in ``text``, and keeps at least one character per line.
        Glyph widths come from the font and are cached.
        """
        size = size or self.pdf.font_size_pt
        room = max(width - 2 * self.pdf.c_margin, 1.0)
        cw = self._char_widths.setdefault((style, size), {})
        def w(ch: str) -> float:
            v = cw.get(ch)
            if v is None:
                v = cw[ch] = self.pdf.get_string_width(ch)
            return v
        every: list[str] = []
        for para in str(text).split("\n"):
            line: list[str] = []
            used = 0.0
            for ch in para:
                cwid = w(ch)
                if line and used + cwid > room:
                    every.append("".join(line))
                    line, used = [], 0.0
                line.append(ch)
                used += cwid
            every.append("".join(line))
        out = every[:max_lines]
        if len(every) > max_lines and out:
            last, ell = out[-1], w("…")
            while last and sum(w(c) for c in last) + ell > room:
                last = last[:-1]
            out[-1] = last + "…"
        return out or [""]

    def signatures(self, labels: list[str]) -> None:
        """Lines to sign on, one per label, with a time line."""
        self.pdf.ln(3)
        for label in labels:
            self.pdf.cell(0, 8, f"{label}：________________    时间：____月____日____时____分",
                          new_x="LMARGIN", new_y="NEXT")

    def save(self, path: Path) -> Path:
        """Write the PDF to ``path`` atomically (:func:`atomic_output`).

        The embedded font subset is taken from a cached pool of the face when
        one holds every glyph used (:mod:`planner.documents.fontcache`).
        """
        path = Path(path)
        with atomic_output(path) as tmp:
            self.pdf.output(str(tmp), output_producer_class=_pooled_output_class())
        return path


#: ``PLANNER_FONT_POOL=0`` subsets every PDF's font from the face itself (fontTools' full path), for comparison
FONT_POOL_ENV = "PLANNER_FONT_POOL"
_POOLED_OUTPUT = None


def _pooled_output_class():  # noqa: ANN202 - an fpdf2 OutputProducer subclass
    """fpdf2's OutputProducer that, once the pages are final, points each embedded face at a pool font."""
    global _POOLED_OUTPUT  # noqa: PLW0603 - made once, on first use
    if _POOLED_OUTPUT is None:
        from fpdf.fonts import TTFFont
        from fpdf.output import OutputProducer

        from planner.documents import fontcache

        class PooledOutput(OutputProducer):
            def bufferize(self):  # noqa: ANN202 - fpdf2's signature
                if os.environ.get(FONT_POOL_ENV, "1") != "0":
                    for font in self.fpdf.fonts.values():
                        if not isinstance(font, TTFFont) or font.color_font:
                            continue
                        src = fontcache.subset_source(font.ttffile, font.collection_font_number or 0,
                                                      font.subset.get_all_glyph_names())
                        if src is not None:
                            if font.ttfont is not None:
                                font.ttfont.close()
                            font.ttfont = src
                return super().bufferize()

        _POOLED_OUTPUT = PooledOutput
    return _POOLED_OUTPUT
