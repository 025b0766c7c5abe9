"""The report's section on revising the instrument: codebook variants side by side (with the holdout guard and
what changed in each codebook) and the evidence-backed suggestions (config ``variants``, ``revision``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from compval.i18n import N_
from compval.i18n import gettext as _
from compval.present.formatting import finite, fmt_num, fmt_r, format_number, format_p, pretty
from compval.present.html.pieces import esc, missing_note, verdict_li
from compval.present.rules import variant_preferred

__all__ = ["revision"]

#: Display words of the codebook diff's levels and changes (compval.revision.diff) and of the suggestions' changes.
_WORDS = {
    "competency": N_("competency"),
    "dimension": N_("dimension"),
    "item": N_("item"),
    "added": N_("added"),
    "dropped": N_("dropped"),
    "moved": N_("moved"),
    "reverse_changed": N_("reverse-keying changed"),
    "text_changed": N_("wording changed"),
    "renamed": N_("renamed"),
    "split": N_("split"),
    "merged": N_("merged"),
    "drop": N_("drop"),
    "move": N_("move"),
    "merge": N_("merge"),
}


def _word(key) -> str:
    return _(_WORDS[key]) if key in _WORDS else str(key)


def _signed(x, digits: int = 3, leading_zero: bool = False) -> str:
    if not finite(x):
        return _("n/a")
    text = format_number(x, digits, leading_zero=leading_zero)
    return text if text.startswith("-") else "+" + text


def _variant_line(r: Mapping) -> str:
    """One variant's verdict sentence (HTML)."""
    model = str(r.get("model") or "hypothesized")
    status = str(r.get("status") or "")
    if status and status != "ok":
        return verdict_li(
            _(
                "<b>{variant}</b> ({n_items} items, {n_factors} factors, {model} model): no usable solution "
                "({status}), so it is not compared with the original."
            ).format(
                variant=esc(pretty(r["variant"])),
                n_items=int(r["n_items"]),
                n_factors=int(r["n_factors"]),
                model=esc(pretty(model).lower()),
                status=esc(status),
            ),
            None,
        )
    parts = [
        _("<b>{variant}</b> ({n_items} items, {n_factors} factors): CFI = {cfi}, RMSEA = {rmsea}").format(
            variant=esc(pretty(r["variant"])),
            n_items=int(r["n_items"]),
            n_factors=int(r["n_factors"]),
            cfi=fmt_r(r["cfi"], 3),
            rmsea=fmt_r(r["rmsea"], 3),
        )
    ]
    if model != "hypothesized":
        parts.append(_("model: {model}").format(model=esc(pretty(model).lower())))
    if str(r["same_items"]).lower() == "true":
        parts.append(
            _("ΔCFI = {dcfi} and ΔBIC = {dbic} against the original").format(
                dcfi=_signed(r["delta_cfi"]), dbic=_signed(r["delta_bic"], 1, True)
            )
        )
    else:
        parts.append(
            _(
                "other items than the original, so AIC and BIC are not comparable; compare the fit of its own "
                "items (ΔCFI = {dcfi})"
            ).format(dcfi=_signed(r["delta_cfi"]))
        )
    nested = str(r.get("nested") or "")
    if nested in ("in_original", "contains_original") and finite(r.get("chisq_diff")):
        what = _("nested in the original") if nested == "in_original" else _("contains the original")
        parts.append(
            _("{what}: Δχ²({df}) = {chisq}, p {p}").format(
                what=what,
                df=format_number(r["df_diff"], 0),
                chisq=fmt_num(r["chisq_diff"], 2),
                p=esc(format_p(r["p_diff"]) if format_p(r["p_diff"]).startswith("<") else "= " + format_p(r["p_diff"])),
            )
        )
    if finite(r.get("delta_cfi_training")) and finite(r.get("delta_cfi_holdout")):
        holds = str(r.get("holds")).lower() == "true"
        if float(r["delta_cfi_training"]) > 0:
            verdict = _("holds out") if holds else _("does not hold out")
        else:
            verdict = _("no gain on the training part to hold out")
        parts.append(
            _("ΔCFI on the training part {train}, on the holdout part {hold}: {verdict}").format(
                train=_signed(r["delta_cfi_training"]), hold=_signed(r["delta_cfi_holdout"]), verdict=verdict
            )
        )
    ok = variant_preferred(
        same_items=str(r["same_items"]).lower() == "true",
        nested=nested,
        delta_bic=r.get("delta_bic"),
        p_diff=r.get("p_diff"),
        holds=r.get("holds"),
    )
    verdict = {
        True: _("preferred over the original"),
        False: _("not preferred over the original"),
        None: _("not judged against the original"),
    }[ok]
    # the clause separator and the closing verdict are language-dependent punctuation
    return verdict_li(_("{clauses} — {verdict}.").format(clauses=_("; ").join(parts), verdict=verdict), ok)


def _compact(df: pd.DataFrame, columns: list[tuple[str, str, int | None]]) -> str:
    """A compact HTML table: (column, heading, decimals or None for text)."""
    out = ['<table class="compact"><thead><tr>']
    out += [f"<th{' class=num' if d is not None else ''}>{esc(h)}</th>" for _c, h, d in columns]
    out.append("</tr></thead><tbody>")
    for rec in df.to_dict("records"):
        cells = []
        for c, _h, d in columns:
            v = rec.get(c)
            if d is not None:
                text = format_number(v, d, leading_zero=False, na="–")
            else:
                text = "" if v is None or (isinstance(v, float) and not finite(v)) else str(v)
            cells.append(f"<td{' class=num' if d is not None else ''}>{esc(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def revision(s: Mapping, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """HTML fragments of the revision section: the holdout split, one verdict per variant, what changed in each
    codebook, and the suggestions with their effect when applied alone on the training and the holdout part."""
    comparison = tables.get("variants_comparison")
    diff = tables.get("variants_diff")
    sugg = tables.get("suggestions")
    out: list[str] = []
    hold = s.get("holdout") or {}
    if hold:
        out.append(
            _(
                "<p>Respondents were split once into a training part (n = {n_train}) and a holdout part "
                "(n = {n_hold}); suggestions are found on the training part and every variant is also fitted on "
                "the holdout part, so that a revision that only capitalises on chance shows up.</p>"
            ).format(
                n_train=(hold.get("training") or {}).get("n", "?"), n_hold=(hold.get("holdout") or {}).get("n", "?")
            )
        )
    if comparison is not None and len(comparison):
        out.append(
            _("<p>Variants of the codebook validated on the same cleaned data beside the original ({n}):</p>").format(
                n=len(comparison) - 1
            )
        )
        rows = [r for r in comparison.to_dict("records") if r["variant"] != "original"]
        out.append('<ul class="verdicts">' + "".join(_variant_line(r) for r in rows) + "</ul>")
    if diff is not None and len(diff):
        out.append("<h3>" + esc(_("What changed in each variant")) + "</h3>")
        d = diff.copy()
        d["change"] = [_word(c) for c in d["change"]]
        d["level"] = [_word(c) for c in d["level"]]
        out.append(
            _compact(
                d.fillna(""),
                [
                    ("variant", _("Variant"), None),
                    ("level", _("Level"), None),
                    ("change", _("Change"), None),
                    ("name", _("Name"), None),
                    ("from", _("From"), None),
                    ("to", _("To"), None),
                    ("detail", _("Detail"), None),
                ],
            )
        )
    if sugg is not None:
        out.append("<h3>" + esc(_("Suggested revisions")) + "</h3>")
        if not len(sugg):
            out.append(missing_note(_("No suggestion: no evidence reached its cut-off on the training part.")))
        else:
            out.append(
                _(
                    "<p>Each suggestion is found on the training part from one kind of evidence, applied alone and "
                    "refitted; results/revision/codebooks/ holds each one as a ready codebook, which becomes a "
                    "variant with one line of config.</p>"
                )
            )
            sugg = sugg.assign(change=[_word(c) for c in sugg["change"]])
            cols = [
                ("suggestion", _("Suggestion"), None),
                ("change", _("Change"), None),
                ("subject", _("Subject"), None),
                ("target", _("Target"), None),
                ("kind", _("Evidence"), None),
                ("delta_cfi_training", _("ΔCFI (training)"), 3),
                ("delta_cfi_holdout", _("ΔCFI (holdout)"), 3),
                ("delta_alpha_training", _("Δα (training)"), 3),
            ]
            out.append(_compact(sugg, [c for c in cols if c[0] in sugg.columns]))
    if not out:
        out.append(missing_note(_("No revision results (no variants or suggestions configured).")))
    return out
