"""The sections of the HTML report: each turns the summary (and, for the sample, the result tables) into a list of
HTML fragments - sentences with APA numbers and verdicts beside them (:mod:`compval.present.rules`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from compval.i18n import N_
from compval.i18n import gettext as _
from compval.present.apa import ApaTable
from compval.present.formatting import finite, fmt_num, fmt_r, format_ci, format_number, format_p, pretty
from compval.present.html.pieces import apa_table_html, display_name, esc, missing_note, verdict_li
from compval.present.rules import (
    AVE_MIN,
    CHEN_DELTA_CFI,
    CHEN_DELTA_RMSEA,
    CR_MIN,
    DEFAULT_CUTOFFS,
    GLANCE_INDICES,
    LOADING_MIN,
    RELIABILITY_ACCEPTABLE,
    fornell_larcker_holds,
    htmt_class,
    meets_minimum,
    significant,
    congruence_verdict,
    htmt_verdict,
    index_verdict,
    kmo_verdict,
    reliability_verdict,
)

__all__ = ["sample", "reliability", "efa", "cfa", "validity", "criterion", "appendix", "glance"]


def _fmt_p(p) -> str:
    """``p = .012`` or ``p &lt; .001`` (APA; HTML-escaped, for the report's text)."""
    s = format_p(p, na=_("n/a"))
    return html.escape(f"p {s}" if s.startswith("<") else f"p = {s}")


def _pct(part, whole, digits: int = 1) -> str:
    return format_number(100.0 * float(part) / float(whole), digits) if finite(part) and whole else _("n/a")


def _boot_ci(ci) -> str:
    """ ", 95% CI [lo, hi]" for a bootstrap interval, or "" when there is none."""
    lo, hi = (list(ci or []) + [None, None])[:2]
    return _(" (95% CI {ci})").format(ci=format_ci(lo, hi)) if finite(lo) and finite(hi) else ""


def _judged(rec: Mapping, idx: str) -> tuple[str, object]:
    """(name, value) of the version of a fit index the verdict used (robust/scaled under MLR/WLSMV)."""
    key = (rec.get("cutoff_keys") or {}).get(idx, idx)
    return key, rec.get("cutoff_values", {}).get(idx, rec.get(idx))


def _best_label(comp: Mapping, lower: bool = False) -> str:
    """How the best model was chosen: lowest BIC, or highest CFI under WLSMV (no likelihood); ``lower``: the
    run-in form (English lower case, index names kept in other languages)."""
    if comp.get("selection_criterion") == "cfi":
        return _("highest cfi (no likelihood under wlsmv)") if lower else _("Highest CFI (no likelihood under WLSMV)")
    return _("lowest bic") if lower else _("Lowest BIC")


# ============================================================================ sections
def sample(s: Mapping, tables: Mapping) -> list[str]:
    out = []
    n_raw, n_an = s.get("n_raw"), s.get("n_analyzed")
    excl = dict(s.get("excluded") or {})
    n_ex = sum(int(v) for v in excl.values())
    parts = _(", ").join(f"{esc(pretty(k).lower())} (n = {int(v)})" for k, v in excl.items()) or _("none")
    out.append(
        _(
            "<p>Of <b>{n_raw}</b> survey records received, <b>{n_analyzed}</b> ({pct}%) were analysed "
            "and {n_excluded} were excluded: {reasons}.</p>"
        ).format(n_raw=n_raw, n_analyzed=n_an, pct=_pct(n_an, n_raw), n_excluded=n_ex, reasons=parts)
    )
    ok = n_raw is not None and n_an is not None and int(n_raw) == int(n_an) + n_ex
    items = [
        verdict_li(
            _("Conservation: received = analysed + excluded ({n_raw} = {n_analyzed} + {n_excluded})").format(
                n_raw=n_raw, n_analyzed=n_an, n_excluded=n_ex
            )
            + ("" if ok else _(" does <b>not</b> hold")),
            ok,
        )
    ]
    perf = s.get("performance")
    if perf:
        items.append(
            verdict_li(
                _(
                    "{matched} analysed respondents were matched to one of {n_records} performance records; "
                    "{survey_only} analysed respondents have no performance record and {performance_only} performance "
                    "records have no analysed survey"
                ).format(
                    matched=perf.get("matched"),
                    n_records=perf.get("n_performance_records"),
                    survey_only=perf.get("survey_only"),
                    performance_only=perf.get("performance_only"),
                )
                + (
                    _(" ({n} of them belong to excluded respondents)").format(n=perf.get("performance_of_excluded"))
                    if perf.get("performance_of_excluded") is not None
                    else ""
                )
                + _("."),
                None,
            )
        )
    out.append("<ul class='verdicts'>" + "".join(items) + "</ul>")
    mcar = s.get("little_mcar") or (s.get("missingness") or {}).get("little_mcar")
    if mcar:
        sig = significant(mcar.get("p"))
        out.append(
            _("<p>Little's (1988) MCAR test: χ²({df}) = {chi2}, {p}; the data are {verdict}.</p>").format(
                df=mcar.get("df"),
                chi2=fmt_num(mcar.get("chi2")),
                p=_fmt_p(mcar.get("p")),
                verdict=_("<b>not</b> missing completely at random") if sig else _("consistent with MCAR"),
            )
        )
    miss = tables.get("item_missingness")
    if miss is not None and len(miss) and "share_missing" in miss:
        top = miss.sort_values(["share_missing", "item"], ascending=[False, True]).head(10)
        t = ApaTable(
            _("Items With the Most Missing Answers"),
            top[["item", "n_missing", "share_missing"]].reset_index(drop=True),
            {"item": "text", "n_missing": "int", "share_missing": "pct1"},
            note=_(
                "Missing answers among respondents after ingest, before the careless-responding screen; the "
                "ten items with the highest share."
            ),
            labels={"item": _("Item"), "n_missing": _("Missing (n)"), "share_missing": _("Missing %")},
        )
        out.append(apa_table_html(t))
    return out


def reliability(s: Mapping, names: Mapping) -> list[str]:
    rel = s.get("reliability") or {}
    if not rel:
        return [missing_note(_("No reliability results."))]
    items = []
    for key, r in rel.items():
        lo, hi = (r.get("alpha_ci") or [None, None])[:2]
        text, ok = reliability_verdict(r.get("alpha"))
        items.append(
            verdict_li(
                _(
                    "<b>{name}</b> ({n_items} items): α = {alpha}, 95% CI {ci}, ω<sub>t</sub> = {omega_t}, "
                    "ω<sub>h</sub> = {omega_h}{omega_h_ci} — α {verdict}"
                ).format(
                    name=esc(display_name(names, key)),
                    n_items=r.get("n_items"),
                    alpha=fmt_r(r.get("alpha")),
                    ci=format_ci(lo, hi, na=_("n/a")),
                    omega_t=fmt_r(r.get("omega_total")),
                    omega_h=fmt_r(r.get("omega_hierarchical")),
                    omega_h_ci=_boot_ci(r.get("omega_hierarchical_ci")),
                    verdict=text,
                ),
                ok,
            )
        )
    n_ok = sum(1 for r in rel.values() if meets_minimum(r.get("alpha"), RELIABILITY_ACCEPTABLE))
    return [
        _("<p>{n_ok} of {n} competency scales reach Cronbach's α ≥ .70.</p>").format(n_ok=n_ok, n=len(rel)),
        "<ul class='verdicts'>" + "".join(items) + "</ul>",
    ]


def efa(s: Mapping, names: Mapping) -> list[str]:
    e = s.get("efa") or {}
    if not e:
        return [missing_note(_("No EFA results."))]
    out = []
    kmo_text, kmo_ok = kmo_verdict(e.get("kmo"))
    bart_ok = significant(e.get("bartlett_p"))
    cong = dict(e.get("congruence") or {})
    k_hyp = len(cong) or None
    items = [
        verdict_li(_("KMO = {kmo}: {verdict}.").format(kmo=fmt_r(e.get("kmo")), verdict=kmo_text), kmo_ok),
        verdict_li(
            (
                _(
                    "Bartlett's test of sphericity: χ²({df}) = {chi2}, {p} — the correlation matrix differs "
                    "from an identity matrix."
                )
                if bart_ok
                else _(
                    "Bartlett's test of sphericity: χ²({df}) = {chi2}, {p} — the correlation matrix does not "
                    "differ from an identity matrix."
                )
            ).format(df=e.get("bartlett_df"), chi2=fmt_num(e.get("bartlett_chi2")), p=_fmt_p(e.get("bartlett_p"))),
            bart_ok,
        ),
    ]
    for key, label in (
        ("n_factors_parallel", _("Parallel analysis (Horn, 1965)")),
        ("n_factors_map", _("Velicer's MAP")),
        ("n_factors_map4", "MAP (r⁴)"),
    ):
        if key in e:
            n = e.get(key)
            ok = None if k_hyp is None or n is None else int(n) == k_hyp
            items.append(
                verdict_li(
                    _("{criterion} suggests <b>{n}</b> factors").format(criterion=label, n=n)
                    + (_("; the codebook hypothesises {k}").format(k=k_hyp) if k_hyp else "")
                    + _("."),
                    ok,
                )
            )
    out.append(
        _(
            "<p>{method} extraction of <b>{k}</b> factors on n = {n} respondents; each hypothesised "
            "competency is matched to the EFA factor with the highest Tucker congruence.</p>"
        ).format(method=esc(str(e.get("method", "")).upper() or _("The")), k=e.get("n_factors_extracted"), n=e.get("n"))
    )
    out.append("<ul class='verdicts'>" + "".join(items) + "</ul>")
    if cong:
        ci = []
        for key, v in cong.items():
            text, ok = congruence_verdict(v)
            ci.append(
                verdict_li(
                    _("<b>{name}</b>: congruence = {value} — {verdict}").format(
                        name=esc(display_name(names, key)), value=fmt_r(v), verdict=text
                    ),
                    ok,
                )
            )
        out.append("<ul class='verdicts'>" + "".join(ci) + "</ul>")
    return out


#: The model-comparison verdicts of :func:`compval.comparison.comparison_tables` (translated for display).
_VERDICTS = (N_("supported"), N_("not supported"))


def _verdict_word(verdict) -> str:
    return _(verdict) if verdict in _VERDICTS else str(verdict)


def _cfa_models(cfa: Mapping) -> list[str]:
    return [k for k, v in cfa.items() if k != "comparison" and isinstance(v, Mapping)]


def cfa(s: Mapping, names: Mapping) -> list[str]:
    cfa = s.get("cfa") or {}
    if not cfa:
        return [missing_note(_("No CFA results."))]
    comp = cfa.get("comparison") or {}
    ref = comp.get("reference", "hypothesized")
    cut = comp.get("cutoffs") or DEFAULT_CUTOFFS
    h = cfa.get(ref) or {}
    out = []
    if h:
        out.append(
            _(
                "<p>The hypothesised model ({model}): χ²({df}) = {chi2}, {p}; RMSEA 90% CI {ci}; "
                "{converged}{status}.</p>"
            ).format(
                model=esc(pretty(ref)),
                df=h.get("df"),
                chi2=fmt_num(h.get("chisq")),
                p=_fmt_p(h.get("pvalue")),
                ci=format_ci(h.get("rmsea_ci_lower"), h.get("rmsea_ci_upper"), 3, na=_("n/a")),
                converged=_("converged") if h.get("converged") else _("<b>did not converge</b>"),
                status="" if h.get("status") in (None, "ok") else " (" + esc(h.get("status")) + ")",
            )
        )
        items = []
        for idx, rule in cut.items():
            text, ok = index_verdict(*_judged(h, idx), rule)
            items.append(verdict_li(esc(text) + _("."), ok))
        out.append("<ul class='verdicts'>" + "".join(items) + "</ul>")
        loads = [v for f in (h.get("loadings_std") or {}).values() for v in f.values() if finite(v)]
        if loads:
            n_low = sum(1 for v in loads if abs(v) < LOADING_MIN)
            out.append(
                _(
                    "<p>Standardized loadings range from {low} to {high}; {n_ok} of {n} reach .50 "
                    "({which}; Hair et al., 2019).</p>"
                ).format(
                    low=fmt_r(min(loads)),
                    high=fmt_r(max(loads)),
                    n_ok=len(loads) - n_low,
                    n=len(loads),
                    which=_("all") if n_low == 0 else _("{n} below").format(n=n_low),
                )
            )
    rivals = [m for m in _cfa_models(cfa) if m != ref]
    if rivals:
        rows = []
        for m in [ref] + rivals:
            v = cfa[m]
            rows.append(
                f"<tr><td>{esc(pretty(m))}</td><td class='num'>{fmt_r(v.get('cfi'), 3)}</td>"
                f"<td class='num'>{fmt_r(v.get('rmsea'), 3)}</td><td class='num'>{fmt_r(v.get('srmr'), 3)}</td>"
                f"<td class='num'>{fmt_num(v.get('bic'), 1)}</td>"
                "<td>"
                + (_("yes") if v.get("meets_cutoffs") else _("no"))
                # a model that could not be estimated, or whose fit measures failed, says so (status "failed: ...")
                + ("" if v.get("status") in (None, "ok") else " (" + esc(str(v.get("status"))) + ")")
                + "</td></tr>"
            )
        out.append(
            "<table class='compact'><thead><tr><th>" + _("Model") + "</th><th class='num'>CFI</th>"
            "<th class='num'>RMSEA</th><th class='num'>SRMR</th><th class='num'>BIC</th>"
            "<th>" + _("Meets cut-offs") + "</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
    if comp:
        pref = comp.get("reference_preferred_over_all_rivals")
        meets = comp.get("reference_meets_cutoffs")
        out.append(
            "<ul class='verdicts'>"
            + verdict_li(
                _(
                    "{criterion}: <b>{best}</b>. The hypothesised model {meets} the cut-offs and is {preferred}; "
                    "overall verdict: <b>{verdict}</b>."
                ).format(
                    criterion=_best_label(comp),
                    best=esc(pretty(comp.get("best_model", comp.get("best_bic")))),
                    meets=_("meets") if meets else _("does not meet"),
                    preferred=_("preferred over every rival") if pref else _("not preferred over every rival"),
                    verdict=esc(_verdict_word(comp.get("verdict"))),
                ),
                bool(pref) if pref is not None else None,
            )
            + "</ul>"
        )
        for m, hrec in (comp.get("higher_order") or {}).items():
            if not hrec.get("comparable"):
                continue
            t = hrec.get("target_coefficient")
            out.append(
                _(
                    "<p>The {model} model keeps the hypothesised factors and explains their correlations by "
                    "higher-order factors: Δχ²({df}) = {chi2}, {p}, ΔBIC = {delta_bic}; target coefficient T = {t} "
                    "(Marsh &amp; Hocevar, 1985: the share of the first-order factors' covariation the higher-order "
                    "factors account for).</p>"
                ).format(
                    model=esc(pretty(m).lower()),
                    df=fmt_num(hrec.get("df_diff"), 0),
                    chi2=fmt_num(hrec.get("chisq_diff")),
                    p=_fmt_p(hrec.get("pvalue")),
                    delta_bic=fmt_num(hrec.get("delta_bic"), 1),
                    t=fmt_r(t, 3),
                )
            )
    return out


def _pair(key: str) -> tuple[str, str]:
    a, _sep, b = str(key).partition("~~")
    return a, b


def validity(s: Mapping, names: Mapping) -> list[str]:
    v = s.get("validity") or {}
    if not v:
        return [missing_note(_("No construct-validity results."))]
    out = []
    facs = {k: r for k, r in v.items() if k not in ("htmt", "invariance") and isinstance(r, Mapping)}
    items = []
    for k, r in facs.items():
        cr, ave = r.get("cr"), r.get("ave")
        ok_cr = meets_minimum(cr, CR_MIN)
        ok_ave = meets_minimum(ave, AVE_MIN)
        items.append(
            verdict_li(
                _(
                    "<b>{name}</b>: CR = {cr} {meets_cr} the ≥ .70 criterion; AVE = {ave} {meets_ave} the ≥ .50 criterion "
                    "(Fornell & Larcker, 1981)"
                ).format(
                    name=esc(display_name(names, k)),
                    cr=fmt_r(cr),
                    meets_cr=_("meets") if ok_cr else _("does not meet"),
                    ave=fmt_r(ave),
                    meets_ave=_("meets") if ok_ave else _("does not meet"),
                ),
                ok_cr and ok_ave,
            )
        )
    if items:
        out.append("<h3>" + _("Convergent validity") + "</h3><ul class='verdicts'>" + "".join(items) + "</ul>")
    # Fornell-Larcker from the CFA factor correlations and the AVEs, both in the summary
    cors = ((s.get("cfa") or {}).get("hypothesized") or {}).get("factor_correlations") or {}
    fl = []
    for key, r in cors.items():
        a, b = _pair(key)
        if a in facs and b in facs and finite(r) and finite(facs[a].get("ave")) and finite(facs[b].get("ave")):
            fl.append((a, b, float(r), fornell_larcker_holds(float(facs[a]["ave"]), float(facs[b]["ave"]), float(r))))
    if fl:
        bad = [
            f"{esc(display_name(names, a))}–{esc(display_name(names, b))} (r = {fmt_r(r)})"
            for a, b, r, ok in fl
            if not ok
        ]
        out.append(
            "<h3>"
            + _("Discriminant validity")
            + "</h3><ul class='verdicts'>"
            + verdict_li(
                _(
                    "Fornell–Larcker: {n_ok} of {n} factor pairs have both AVEs above the squared latent correlation"
                ).format(n_ok=len(fl) - len(bad), n=len(fl))
                + (_("; fails for {pairs}").format(pairs=_(", ").join(bad)) if bad else "")
                + _("."),
                not bad,
            )
            + "</ul>"
        )
    ht = {k: x for k, x in (v.get("htmt") or {}).items() if finite(x)}
    if ht:
        worst = max(ht, key=lambda k: ht[k])
        n_ok = sum(1 for x in ht.values() if htmt_class(x) == "discriminant")
        a, b = (esc(display_name(names, k)) for k in _pair(worst))
        text, ok = htmt_verdict(ht[worst])
        if not fl:
            out.append("<h3>" + _("Discriminant validity") + "</h3>")
        out.append(
            "<ul class='verdicts'>"
            + verdict_li(
                _(
                    "HTMT (Henseler et al., 2015): {n_ok} of {n} pairs below .85; the largest is {a}–{b} with HTMT = "
                    "{value}, {verdict}."
                ).format(n_ok=n_ok, n=len(ht), a=a, b=b, value=fmt_r(ht[worst]), verdict=text),
                ok,
            )
            + "</ul>"
        )
    inv = v.get("invariance") or {}
    steps = [(k, r) for k, r in inv.items() if isinstance(r, Mapping)]
    if steps:
        vcfg = ((s.get("provenance") or {}).get("config") or {}).get("validity") or {}
        chen = _("Chen, 2007: ΔCFI ≥ −{delta_cfi}, ΔRMSEA ≤ {delta_rmsea}").format(
            delta_cfi=fmt_r(vcfg.get("delta_cfi", CHEN_DELTA_CFI), 3),
            delta_rmsea=fmt_r(vcfg.get("delta_rmsea", CHEN_DELTA_RMSEA), 3),
        )
        it = []
        for k, r in steps:
            if r.get("status") not in (None, "ok") and not finite(r.get("cfi")):
                it.append(
                    verdict_li(
                        _("<b>{step}</b>: could not be estimated ({status})").format(
                            step=esc(pretty(k)), status=esc(str(r.get("status")))
                        ),
                        False,
                    )
                )
            elif not finite(r.get("delta_cfi")):
                it.append(
                    verdict_li(
                        _("<b>{step}</b>: CFI = {cfi}, RMSEA = {rmsea} (baseline)").format(
                            step=esc(pretty(k)), cfi=fmt_r(r.get("cfi"), 3), rmsea=fmt_r(r.get("rmsea"), 3)
                        ),
                        None,
                    )
                )
            else:
                it.append(
                    verdict_li(
                        (
                            _(
                                "<b>{step}</b>: CFI = {cfi}, ΔCFI = {delta_cfi}, RMSEA = {rmsea}, ΔRMSEA = {delta_rmsea} — "
                                "invariance holds ({rule})"
                            )
                            if r.get("holds")
                            else _(
                                "<b>{step}</b>: CFI = {cfi}, ΔCFI = {delta_cfi}, RMSEA = {rmsea}, ΔRMSEA = {delta_rmsea} — "
                                "invariance does not hold ({rule})"
                            )
                        ).format(
                            step=esc(pretty(k)),
                            cfi=fmt_r(r.get("cfi"), 3),
                            delta_cfi=fmt_r(r.get("delta_cfi"), 3),
                            rmsea=fmt_r(r.get("rmsea"), 3),
                            delta_rmsea=fmt_r(r.get("delta_rmsea"), 3),
                            rule=chen,
                        ),
                        bool(r.get("holds")),
                    )
                )
        ff = inv.get("first_failing_step")
        out.append(
            _("<h3>Measurement invariance across {group}</h3>").format(
                group=esc(pretty(inv.get("group", "groups")).lower())
            )
            + "<ul class='verdicts'>"
            + "".join(it)
            + "</ul>"
            + "<p>"
            + (_("All steps hold.") if not ff else _("First failing step: <b>{step}</b>.").format(step=esc(pretty(ff))))
            + "</p>"
        )
    return out


def criterion(s: Mapping, names: Mapping) -> list[str]:
    c = s.get("criterion") or {}
    crits = {
        k: x
        for k, x in c.items()
        if k not in ("regression", "dominance", "missing", "latent_regression") and isinstance(x, Mapping)
    }
    if not crits:
        return [missing_note(_("No criterion-validity results (no performance data configured)."))]
    out = []
    reg = c.get("regression") or {}
    dom = c.get("dominance") or {}
    miss = c.get("missing") or {}
    for crit, comps in crits.items():
        rs = {k: x for k, x in comps.items() if isinstance(x, Mapping) and finite(x.get("r"))}
        items = []
        if rs:
            best = max(rs, key=lambda k: abs(rs[k]["r"]))
            n_sig = sum(1 for x in rs.values() if significant(x.get("p_fdr")))
            b = rs[best]
            items.append(
                verdict_li(
                    _(
                        "{n_sig} of {n} competencies correlate significantly with the criterion (Benjamini–Hochberg "
                        "adjusted p &lt; .05); strongest: {name}, r = {r}, 95% CI {ci}, {p} (adjusted)."
                    ).format(
                        n_sig=n_sig,
                        n=len(rs),
                        name=esc(display_name(names, best)),
                        r=fmt_r(b["r"]),
                        ci=format_ci(b.get("ci_lower"), b.get("ci_upper"), na=_("n/a")),
                        p=_fmt_p(b.get("p_fdr")),
                    ),
                    n_sig > 0,
                )
            )
        g = reg.get(crit)
        if g:
            sig = significant(g.get("p_delta"))
            items.append(
                verdict_li(
                    _(
                        "Incremental validity: the competencies add ΔR² = {delta_r2} beyond the controls (R² from "
                        "{r2_controls} to {r2_full}), {p}."
                    ).format(
                        delta_r2=fmt_r(g.get("delta_r2")),
                        r2_controls=fmt_r(g.get("r2_controls")),
                        r2_full=fmt_r(g.get("r2_full")),
                        p=_fmt_p(g.get("p_delta")),
                    ),
                    sig,
                )
            )
        d = {k: x for k, x in (dom.get(crit) or {}).items() if finite(x)}
        if d:
            top = max(d, key=lambda k: d[k])
            items.append(
                verdict_li(
                    _("Most important competency by general dominance: {name} (weight = {w}).").format(
                        name=esc(display_name(names, top)), w=fmt_r(d[top], 3)
                    ),
                    None,
                )
            )
        lat = (c.get("latent_regression") or {}).get(crit) or {}
        if lat and finite(lat.get("r2")):
            betas = {k: v for k, v in (lat.get("betas") or {}).items() if finite(v)}
            top_b = max(betas, key=lambda k: abs(betas[k])) if betas else None
            items.append(
                verdict_li(
                    _("Latent structural regression (measurement error removed): R² = {r2}").format(
                        r2=fmt_r(lat.get("r2"))
                    )
                    + (
                        _("; largest standardized β: {name} = {beta}").format(
                            name=esc(display_name(names, top_b)), beta=fmt_r(betas[top_b])
                        )
                        if top_b
                        else ""
                    )
                    + (
                        ""
                        if lat.get("status") in (None, "ok")
                        else _(" (status: {status})").format(status=esc(str(lat.get("status"))))
                    )
                    + _("."),
                    None,
                )
            )
        m = miss.get(crit) or {}
        n_txt = (
            f" (n = {m.get('n_valid')}"
            + (_("; {n} without a value)").format(n=m.get("n_missing")) if m.get("n_missing") else ")")
            if m
            else ""
        )
        out.append(f"<h3>{esc(pretty(crit))}{n_txt}</h3><ul class='verdicts'>" + "".join(items) + "</ul>")
    fs = s.get("criterion_factor_scores") or {}
    fs_reg = {k: g for k, g in (fs.get("regression") or {}).items() if isinstance(g, Mapping)}
    if fs_reg:
        rows = []
        for crit, g in fs_reg.items():
            mean_dr2 = (reg.get(crit) or {}).get("delta_r2")
            rows.append(
                _("{criterion}: ΔR² = {delta_r2}, {p} (mean scores: {mean_delta_r2})").format(
                    criterion=esc(pretty(crit)),
                    delta_r2=fmt_r(g.get("delta_r2")),
                    p=_fmt_p(g.get("p_delta")),
                    mean_delta_r2=fmt_r(mean_dr2),
                )
            )
        out.append(
            _("<p>Robustness with CFA factor scores instead of mean scores: {results}.</p>").format(
                results=_("; ").join(rows)
            )
        )
    return out


def appendix(s: Mapping, run_date: str | None) -> list[str]:
    p = s.get("provenance") or {}
    rows = [
        (_("Run date"), run_date or _("not recorded")),
        ("Python", p.get("python")),
        (_("Platform"), p.get("platform")),
        (_("Seed"), p.get("seed")),
        (_("Codebook SHA-256"), p.get("codebook_sha256")),
    ]
    for k, h in (p.get("inputs_sha256") or {}).items():
        rows.append((_("Raw data SHA-256 ({name})").format(name=k), h))
    out = [
        "<table class='compact prov'><tbody>"
        + "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>" for k, v in rows)
        + "</tbody></table>"
    ]
    pk = p.get("packages") or {}
    if pk:
        out.append(
            "<h3>"
            + _("Software versions")
            + "</h3><table class='compact'><thead><tr><th>"
            + _("Package")
            + "</th><th>"
            + _("Version")
            + "</th></tr></thead><tbody>"
            + "".join(f"<tr><td>{esc(k)}</td><td><code>{esc(v)}</code></td></tr>" for k, v in pk.items())
            + "</tbody></table>"
        )
    if p.get("config") is not None:
        out.append(
            "<h3>"
            + _("Configuration")
            + "</h3><pre>"
            + esc(json.dumps(p["config"], indent=2, ensure_ascii=False, default=str))
            + "</pre>"
        )
    out.append(
        _(
            "<p>Every headline number in this report is read from <code>results/summary.json</code>; the "
            "tables come from the CSV files under <code>results/</code>. The run date above is the only "
            "element that differs between two runs on the same inputs.</p>"
        )
    )
    return out


# ============================================================================ glance
def glance(s: Mapping, names: Mapping) -> list[str]:
    items = []
    if s.get("n_raw") is not None:
        items.append(
            verdict_li(
                _("Analysed sample: n = {n_analyzed} of {n_raw} records.").format(
                    n_analyzed=s.get("n_analyzed"), n_raw=s.get("n_raw")
                ),
                None,
            )
        )
    rel = s.get("reliability") or {}
    if rel:
        alphas = [r.get("alpha") for r in rel.values() if finite(r.get("alpha"))]
        if alphas:
            ok = min(alphas) >= RELIABILITY_ACCEPTABLE
            items.append(
                verdict_li(
                    _("Reliability: α from {low} to {high} across {n} competencies ({which} ≥ .70).").format(
                        low=fmt_r(min(alphas)),
                        high=fmt_r(max(alphas)),
                        n=len(alphas),
                        which=_("all") if ok else _("not all"),
                    ),
                    ok,
                )
            )
    cfa = s.get("cfa") or {}
    comp = cfa.get("comparison") or {}
    h = cfa.get(comp.get("reference", "hypothesized")) or {}
    if h:
        cut = comp.get("cutoffs") or {k: DEFAULT_CUTOFFS[k] for k in GLANCE_INDICES}
        parts = [index_verdict(*_judged(h, k), r) for k, r in cut.items()]
        items.append(
            verdict_li(
                "CFA: " + _("; ").join(esc(t) for t, _ok in parts) + _("."),
                all(ok for _t, ok in parts) if parts else None,
            )
        )
    if comp.get("verdict"):
        items.append(
            verdict_li(
                _("Model comparison verdict: <b>{verdict}</b> ({criterion}: {best}).").format(
                    verdict=esc(_verdict_word(comp["verdict"])),
                    criterion=_best_label(comp, lower=True),
                    best=esc(pretty(comp.get("best_model", comp.get("best_bic")))),
                ),
                comp.get("reference_preferred_over_all_rivals"),
            )
        )
    ht = [x for x in ((s.get("validity") or {}).get("htmt") or {}).values() if finite(x)]
    if ht:
        text, ok = htmt_verdict(max(ht))
        items.append(
            verdict_li(
                _("Discriminant validity: largest HTMT = {value}, {verdict}.").format(
                    value=fmt_r(max(ht)), verdict=text
                ),
                ok,
            )
        )
    reg = (s.get("criterion") or {}).get("regression") or {}
    if reg:
        d = {k: g.get("delta_r2") for k, g in reg.items() if finite(g.get("delta_r2"))}
        if d:
            items.append(
                verdict_li(
                    _("Criterion validity: ΔR² beyond controls {results}.").format(
                        results=_(", ").join(f"{esc(pretty(k))} {fmt_r(v)}" for k, v in d.items())
                    ),
                    None,
                )
            )
    return ["<ul class='verdicts glance'>" + "".join(items) + "</ul>"] if items else []
