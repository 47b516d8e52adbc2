"""Fast font subsets for the PDFs: a desubroutinised pool of the CJK face, built once, cached on disk.

fpdf2 embeds a subset of the font in every PDF, made by fontTools from the
whole Noto CJK face: it parses the face's tables (65,000 glyphs) and executes
every kept glyph's charstring twice (closure, unused subroutines), 0.3-1.5 s a
PDF whatever its length. Here, once per font file, the glyphs of the
characters a document most likely needs (a *tier*: GB 2312, then GBK, plus
ASCII, Latin-1 and the common symbol blocks) are subset from the face
*desubroutinised* (each charstring self-contained) into a small CFF-only
*pool* font, cached under :func:`cache_dir` by the SHA-256 of the font file.
A document's subset is then taken from the smallest pool that holds all its
glyphs, copying charstrings without executing them: about 0.02 s (GB 2312) or
0.1 s (GBK). A document with a glyph in no pool (or a font that is not a
CID-keyed CFF, e.g. a TrueType file named by ``$PLANNER_CJK_FONT``) goes
through fontTools' full path as before.

The embedded font is still a proper subset: a CID-keyed CFF with exactly the
glyphs the document uses (CIDs, widths and outlines of the face), so the PDF
looks the same and its text extracts the same (the ToUnicode map is fpdf2's).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: bump when the content of a pool file changes meaning, so old cache files are not reused
POOL_FORMAT = 1
#: ``$PLANNER_CACHE_DIR`` overrides where pools are kept (default ``$XDG_CACHE_HOME/planner`` or ``~/.cache/planner``)
CACHE_ENV = "PLANNER_CACHE_DIR"
#: pools from the smallest: GB 2312 (6,763 hanzi, built in ~4 s) covers most documents, GBK (21,003) nearly all
TIERS = ("gb2312", "gbk")

#: Unicode blocks every tier holds besides its encoding's characters (ASCII, Latin-1, punctuation, symbols)
_EXTRA_RANGES = ((0x20, 0x7F), (0xA0, 0x100), (0x2000, 0x2070), (0x2100, 0x2300), (0x2460, 0x2800),
                 (0x3000, 0x3040), (0xFF00, 0xFFF0))


def cache_dir() -> Path:
    """Where the pool fonts are kept: ``$PLANNER_CACHE_DIR``, else ``$XDG_CACHE_HOME/planner``, else
    ``~/.cache/planner`` (a ``fonts`` folder inside)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env) / "fonts"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "planner" / "fonts"


def tier_chars(tier: str) -> set[str]:
    """The characters of a pool tier: every character its encoding has, and the extra blocks."""
    out = {chr(c) for lo, hi in _EXTRA_RANGES for c in range(lo, hi)}
    for hi in range(0x81, 0xFF):
        for lo in range(0x40, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode(tier))
            except UnicodeDecodeError:
                pass
    return out


@dataclass(frozen=True)
class Pool:
    """A desubroutinised CFF-only font (``data``, an OpenType file) and the glyph names it holds."""

    tier: str
    data: bytes
    glyphs: frozenset[str]


_DIGESTS: dict[tuple[str, int, int], str] = {}
_POOLS: dict[tuple[str, int, str], Pool | None] = {}
_CID_CFF: dict[tuple[str, int], bool] = {}


def _digest(path: str) -> str:
    """SHA-256 of the font file (memoised per path, size and modification time)."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    d = _DIGESTS.get(key)
    if d is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        d = _DIGESTS[key] = h.hexdigest()
    return d


def is_cid_cff(path: str, index: int) -> bool:
    """Whether the face is a CID-keyed CFF font (the only kind the pools are made for)."""
    key = (str(path), int(index))
    if key not in _CID_CFF:
        from fontTools import ttLib

        try:
            tt = ttLib.TTFont(path, fontNumber=index, lazy=True)
            ok = "CFF " in tt and hasattr(tt["CFF "].cff.topDictIndex[0], "ROS")
            tt.close()
        except Exception:  # noqa: BLE001 - any trouble: fontTools' own path
            ok = False
        _CID_CFF[key] = ok
    return _CID_CFF[key]


def _subset_options(**kw):  # noqa: ANN003, ANN202
    from fontTools import subset as ftsubset

    opts = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, **kw)
    opts.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC", "EBDT",
                         "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]
    return opts


def build_pool(path: str, index: int, tier: str) -> bytes:
    """The pool font of a tier as OpenType bytes: the tier's glyphs of the face, desubroutinised, CFF only."""
    from fontTools import subset as ftsubset
    from fontTools import ttLib

    tt = ttLib.TTFont(path, fontNumber=index, lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    cmap = tt.getBestCmap()
    names = sorted({cmap[ord(ch)] for ch in tier_chars(tier) if ord(ch) in cmap})
    sub = ftsubset.Subsetter(_subset_options(desubroutinize=True))
    sub.populate(glyphs=names)
    sub.subset(tt)
    for tag in list(tt.keys()):
        if tag not in ("CFF ", "head", "maxp", "GlyphOrder"):
            del tt[tag]
    buf = io.BytesIO()
    tt.save(buf)
    tt.close()
    return buf.getvalue()


def _read_or_build(path: str, index: int, tier: str) -> bytes:
    """The pool bytes from the cache folder, or built and written there (atomically) for next time."""
    name = f"{_digest(path)[:32]}-{index}-{tier}-v{POOL_FORMAT}.otf"
    target = cache_dir() / name
    try:
        return target.read_bytes()
    except OSError:
        pass
    data = build_pool(path, index, tier)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:  # a read-only home: the pool lives in memory for this process only
        log.info("font pool not cached (%s)", type(exc).__name__)
    return data


def pool(path: str, index: int, tier: str) -> Pool | None:
    """The pool of ``tier`` for a face (memoised in the process); None when the face is not a CID-keyed CFF."""
    key = (str(path), int(index), tier)
    if key not in _POOLS:
        if not is_cid_cff(path, index):
            _POOLS[key] = None
        else:
            from fontTools import ttLib

            data = _read_or_build(str(path), int(index), tier)
            tt = ttLib.TTFont(io.BytesIO(data), lazy=True)
            _POOLS[key] = Pool(tier, data, frozenset(tt.getGlyphOrder()))
            tt.close()
    return _POOLS[key]


def _pool_cff_class():  # noqa: ANN202
    """A CFF table class whose subsetting executes no charstring (for pool fonts only)."""
    from fontTools.ttLib.tables.C_F_F_ import table_C_F_F_

    class PoolCFF(table_C_F_F_):
        """The CFF table of a pool: CID-keyed (so no ``seac`` accent glyphs to add) and desubroutinised
        (so no subroutine to prune); fontTools' subsetter then only copies the kept charstrings."""

        def closure_glyphs(self, s) -> None:  # noqa: ANN001 - a fontTools Subsetter
            return None

        def remove_unused_subroutines(self) -> None:
            return None

    return PoolCFF


_POOL_CFF = None


def subset_source(path: str, index: int, glyph_names: object) -> object | None:
    """A fontTools font to subset ``glyph_names`` from, cheaper than the face itself, or None.

    It is a fresh copy of the smallest pool holding every name, its CFF table
    of a class that subsets by copying charstrings. None when no pool holds
    them all or the face is not a CID-keyed CFF (then subset the face itself).
    """
    global _POOL_CFF  # noqa: PLW0603 - the class is made once, on first use
    from fontTools import ttLib

    names = {str(n) for n in glyph_names}
    for tier in TIERS:
        p = pool(path, index, tier)
        if p is None:
            return None
        if names <= p.glyphs:
            tt = ttLib.TTFont(io.BytesIO(p.data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
            if _POOL_CFF is None:
                _POOL_CFF = _pool_cff_class()
            tt["CFF "].__class__ = _POOL_CFF
            return tt
    return None
