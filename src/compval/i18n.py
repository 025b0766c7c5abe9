"""Languages of the outputs: one gettext message catalogue for every human-readable string.

The source strings (``msgid``) are the English texts written in the modules; each module marks them with
``_()`` (this module's :func:`gettext`), so that with English active the outputs are exactly what they were
before any translation existed. Other languages come from the GNU gettext catalogue
``compval/locales/<lang>/LC_MESSAGES/compval.po`` (maintained with Babel: ``make i18n`` extracts the
messages, updates the catalogues and compiles the ``.mo`` files shipped beside them).

The active language is a context variable set with :func:`language` (``with language("zh"): ...``), the way
Django's ``translation.override`` or Babel's ``force_locale`` work: the plotting, table and report functions
keep their signatures and the caller chooses the language of everything built inside the block.

Texts that come from the codebook (competency names, item wording) are not in the catalogue: they are
language maps ``{zh: ..., en: ...}`` resolved by :func:`resolve` (see :meth:`compval.codebook.Codebook.localized`).

Number formats are the same in both languages: the Chinese psychology journals follow the APA publication
manual for statistics (e.g. Acta Psychologica Sinica's author guidelines), so ``r = .84``, ``p < .001``;
only the wording and punctuation of the sentences around the numbers change.

Examples
--------
>>> from compval.i18n import gettext as _, language
>>> with language("zh"):
...     _("Reliability")
'信度'

In R the same mechanism is ``gettext()`` with ``bindtextdomain()`` and ``Sys.setLanguage("zh_CN")``.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext as _gettext
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources

__all__ = [
    "LANGUAGES",
    "SOURCE_LANGUAGE",
    "DOMAIN",
    "gettext",
    "ngettext",
    "N_",
    "language",
    "active_language",
    "display_labels",
    "display_label",
    "translations",
    "resolve",
    "check_language",
    "output_suffix",
    "locale_dir",
    "catalogue_path",
    "compile_catalogue",
    "catalogue_digest",
    "translate_markdown",
    "extract_notebook",
]

#: The languages the catalogue covers; the first is the language of the source strings.
LANGUAGES = ("en", "zh")
SOURCE_LANGUAGE = "en"
DOMAIN = "compval"

_ACTIVE: contextvars.ContextVar[str] = contextvars.ContextVar("compval_language", default=SOURCE_LANGUAGE)
_LABELS: contextvars.ContextVar[Mapping] = contextvars.ContextVar("compval_labels", default={})


def check_language(lang: str) -> str:
    """``lang`` when the catalogue covers it; ValueError naming the supported languages otherwise."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(LANGUAGES)}")
    return lang


def locale_dir() -> str:
    """Directory holding ``<lang>/LC_MESSAGES/compval.{po,mo}`` (inside the installed package)."""
    return str(resources.files("compval").joinpath("locales"))


@lru_cache(maxsize=None)
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the identity translation).

    Raises FileNotFoundError when the ``.mo`` file is missing (run ``make i18n``): a missing catalogue is
    an error, never a silent fall-back to English.
    """
    check_language(lang)
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=locale_dir(), languages=[lang])


def active_language() -> str:
    """The language set by the innermost :func:`language` block (English outside any block)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def language(lang: str) -> Iterator[str]:
    """Make ``lang`` the active language inside the block (restored afterwards, also on error)."""
    translations(lang)  # fail early on an unknown language or a missing catalogue
    token = _ACTIVE.set(lang)
    try:
        yield lang
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def display_labels(labels: Mapping[str, object] | None) -> Iterator[None]:
    """Inside the block, :func:`display_label` gives the display names of ``labels`` (config ``labels``: name ->
    text or language map) in the active language; restored afterwards, also on error."""
    token = _LABELS.set(dict(labels or {}))
    try:
        yield
    finally:
        _LABELS.reset(token)


def display_label(name) -> str | None:
    """The display name of ``name`` in the active language, from the innermost :func:`display_labels` block; None
    when it has none (a language map without the active language has none: its other texts are not this
    language's)."""
    value = _LABELS.get().get(str(name))
    if isinstance(value, Mapping):
        return value.get(_ACTIVE.get())
    return value


def gettext(message: str) -> str:
    """``message`` in the active language (the catalogue's ``msgstr``; the English source when untranslated)."""
    return translations(_ACTIVE.get()).gettext(message)


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it (gettext_noop): for module-level constants that
    are translated where they are used, e.g. ``_(SECTIONS[k][1])``."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural form of a message for count ``n`` in the active language."""
    return translations(_ACTIVE.get()).ngettext(singular, plural, n)


def resolve(value, lang: str, default: str = SOURCE_LANGUAGE) -> tuple[str, str | None]:
    """Text of a codebook field in ``lang``: ``(text, used)``.

    ``value`` is a plain string (``used`` is None: the field is not language-tagged) or a language map
    ``{zh: ..., en: ...}``. A map without ``lang`` falls back to ``default``, then to its first entry;
    ``used`` then names the language actually used, so the caller can report the fall-back.
    """
    if not isinstance(value, Mapping):
        return value, None
    for cand in (lang, default, *value.keys()):
        if cand in value:
            return value[cand], cand
    raise ValueError("empty language map")


def catalogue_path(lang: str, ext: str = "po") -> str:
    """Path of the ``.po`` (``ext="po"``) or compiled ``.mo`` catalogue of ``lang``."""
    return f"{locale_dir()}/{check_language(lang)}/LC_MESSAGES/{DOMAIN}.{ext}"


def compile_catalogue(po_text: bytes) -> bytes:
    """The ``.mo`` bytes of a ``.po`` catalogue (Babel's reader and writer; fuzzy entries left out).

    Babel's ``pybabel compile`` also checks %-placeholders and mistakes "95% confidence" for a ``% c``
    conversion; the catalogue uses ``str.format`` placeholders only, whose agreement between ``msgid`` and
    ``msgstr`` the test suite checks instead.
    """
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(po_text))
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _main(argv: list[str] | None = None) -> int:
    """``python -m compval.i18n compile``: rebuild every ``.mo`` from its ``.po`` (``make i18n`` runs it)."""
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m compval.i18n", description=_main.__doc__)
    ap.add_argument("command", choices=["compile"])
    ap.parse_args(argv)
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        mo = compile_catalogue(Path(catalogue_path(lang, "po")).read_bytes())
        Path(catalogue_path(lang, "mo")).write_bytes(mo)
        print(f"compiled {catalogue_path(lang, 'mo')} ({len(mo)} bytes)")
    return 0


def translate_markdown(notebook) -> int:
    """Translate the markdown cells of an ``nbformat`` notebook in place into the active language (each cell's
    whole text is one catalogue message, see :func:`extract_notebook`); returns the number of cells changed."""
    n = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            text = gettext(cell.source)
            n += text != cell.source
            cell.source = text
    return n


def extract_notebook(fileobj, keywords, comment_tags, options):
    """Babel extraction method for a jupytext percent-format notebook (``notebooks/*.py``): every markdown
    cell is one message (mapped in ``babel.cfg`` as ``[compval.i18n:extract_notebook: notebooks/*.py]``)."""
    import jupytext

    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    line = 1
    starts = {}
    for k, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("# %% [markdown]"):
            starts[len(starts)] = k
    for j, cell in enumerate(c for c in jupytext.reads(text, fmt="py:percent").cells if c.cell_type == "markdown"):
        line = starts.get(j, line)
        yield line, None, cell.source, []


def catalogue_digest() -> str:
    """SHA-256 (16 hex digits) of the translations (msgid, msgstr pairs of every ``.po``; the header with its
    dates left out): a Snakemake params value, so that editing a translation reruns the rules that write
    translated outputs and re-extracting an unchanged catalogue does not."""
    import hashlib
    import io
    from pathlib import Path

    from babel.messages.pofile import read_po

    h = hashlib.sha256()
    for lang in LANGUAGES:
        if lang != SOURCE_LANGUAGE:
            catalog = read_po(io.BytesIO(Path(catalogue_path(lang, "po")).read_bytes()))
            for m in sorted((m for m in catalog if m.id), key=lambda m: str(m.id)):
                h.update(repr((lang, m.id, m.string, "fuzzy" in m.flags)).encode("utf-8"))
    return h.hexdigest()[:16]


def output_suffix(lang: str, primary: str) -> str:
    """File-name infix of an output in ``lang``: "" for the primary language, ``".zh"`` otherwise
    (``report.html`` and ``report.zh.html``)."""
    return "" if lang == primary else f".{check_language(lang)}"


if __name__ == "__main__":
    raise SystemExit(_main())
