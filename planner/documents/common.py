"""What every document needs: the plan and its people, names of places, masking, Excel and PDF.

Documents read only a plan directory (``docs/plan-format.md``) and its scenario's
validated tables (for names, ID numbers and phones, which the plan files do not
hold), never solver internals. Personal data goes only into the files whose
readers need it and never into logs or error messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.plan_format import PlanFiles, read_plan
from planner.errors import DataError
from planner.scenario import Scenario

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
    return DocData(sc, plan, people, places, factories, v.set_index(v["village_code"].astype(str)), townships, t)


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


def local_time(ts) -> str:
    """A plan time as 'MM-DD HH:MM' local, or '' for none."""
    if ts is None or pd.isna(ts):
        return ""
    return pd.Timestamp(ts).strftime("%m-%d %H:%M")


def print_setup(ws, title: str, n_rows: int, n_cols: int) -> None:
    """Print settings of a worksheet: frozen header, filter, A4 landscape, header row and title on each page."""
    if n_cols:
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(n_rows, 1), n_cols - 1)
        ws.repeat_rows(0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_header(f"&C{title.replace('&', '&&')}")
    ws.set_footer("&C第 &P 页，共 &N 页")


def write_excel(path: Path, sheets: dict[str, pd.DataFrame], *, title: str,
                finish: Callable[[object], None] | None = None) -> Path:
    """Write sheets for printing: frozen header, filters, A4 landscape, header on every page.

    ``title`` goes in the printed page header. Sheet names are cut to Excel's 31
    characters. ``finish`` receives the xlsxwriter workbook after the sheets are
    written, to add more (charts) before the file is closed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="xlsxwriter") as xw:
        book = xw.book
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        for name, frame in sheets.items():
            sheet_name = name[:31]
            frame.to_excel(xw, sheet_name=sheet_name, index=False)
            ws = xw.sheets[sheet_name]
            for j, col in enumerate(frame.columns):
                ws.write(0, j, col, head)
                values = frame[col].astype(str)
                width = max([len(str(col))] + [len(x) for x in values.head(500)]) if len(frame) else len(str(col))
                ws.set_column(j, j, min(40, max(6, width * 1.6 + 2)))
            print_setup(ws, title, len(frame), len(frame.columns))
        if finish is not None:
            finish(book)
    return path


class CjkPdf:
    """An A4 landscape PDF with an embedded Chinese font, tables whose header repeats on each page.

    Built on fpdf2. Use :meth:`heading`, :meth:`text`, :meth:`table` and
    :meth:`signatures`, then :meth:`save`.
    """

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        path, index = cjk_font()
        self.pdf = FPDF(orientation="L", unit="mm", format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=12)
        self.pdf.add_font("cjk", fname=path, collection_font_number=index)
        bold = path.replace("Regular", "Bold")
        self.pdf.add_font("cjk", style="B", fname=bold if Path(bold).is_file() else path,
                          collection_font_number=index)
        self.pdf.set_title(title)
        self.pdf.set_font("cjk", size=9)
        self.title = title

    def page(self) -> None:
        """Start a new page with the document title on top."""
        self.pdf.add_page()
        self.pdf.set_font("cjk", size=13)
        self.pdf.cell(0, 8, self.title, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("cjk", size=9)

    def heading(self, text: str) -> None:
        self.pdf.set_font("cjk", size=11)
        self.pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("cjk", size=9)

    def text(self, text: str) -> None:
        self.pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    def table(self, frame: pd.DataFrame, widths: list[float] | None = None, *, size: float = 8) -> None:
        """A table of ``frame`` (all cells as text); the header row repeats after a page break."""
        self.pdf.set_font("cjk", size=size)
        cols = [str(c) for c in frame.columns]
        usable = self.pdf.epw
        if widths is None:
            widths = [1.0] * len(cols)
        total = sum(widths)
        col_widths = tuple(usable * w / total for w in widths)
        with self.pdf.table(col_widths=col_widths, repeat_headings=1, line_height=size * 0.55,
                            text_align="LEFT", first_row_as_headings=True) as t:
            row = t.row()
            for c in cols:
                row.cell(c)
            for values in frame.astype(str).itertuples(index=False):
                row = t.row()
                for x in values:
                    row.cell("" if x in ("nan", "None", "NaT") else x)
        self.pdf.set_font("cjk", size=9)
        self.pdf.ln(2)

    def signatures(self, labels: list[str]) -> None:
        """Lines to sign on, one per label, with a time line."""
        self.pdf.ln(3)
        for label in labels:
            self.pdf.cell(0, 8, f"{label}：________________    时间：____月____日____时____分",
                          new_x="LMARGIN", new_y="NEXT")

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.pdf.output(str(path))
        return path
