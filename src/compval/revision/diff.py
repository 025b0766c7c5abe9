"""Revising a codebook: what changed between two versions of an instrument (``python -m compval diff A B``).

:func:`diff_codebooks` compares two codebooks by *item membership*, not by names: a competency (or dimension) of
the old version corresponds to the one of the new version that holds most of its items, whatever either is
called, so renaming is told apart from moving, splitting and merging. Changes reported, one row each:

* items ``added``, ``dropped``, ``moved`` (from one competency/dimension to another that does not correspond to
  it), ``reverse_changed``, ``text_changed``;
* competencies and dimensions ``renamed`` (same items, other key or name), ``split`` (the items of one old group
  now form two or more new groups, each mostly from it), ``merged`` (one new group gathers most of the items of
  two or more old ones), each naming the items that changed group, and ``added`` and ``dropped`` (no
  corresponding group).

A group "contributes" to another when they share at least two items and at least half of the smaller of the two
(the items both versions have); a single item that changes group is a move, not a split or a merge. An old group
corresponds to the new group holding most of its items (ties: the same id, then the same name) when that is at
least half of the smaller of the two.
"""

from __future__ import annotations

import pandas as pd

from ..codebook import Codebook

__all__ = ["diff_codebooks", "DIFF_COLUMNS"]

DIFF_COLUMNS = ["level", "change", "name", "from", "to", "detail"]


def _row(level: str, change: str, name: str, frm: str = "", to: str = "", detail: str = "") -> dict:
    return dict(zip(DIFF_COLUMNS, (level, change, name, frm, to, detail)))


def _membership(cb: Codebook, level: str) -> dict[str, str]:
    """item -> group id at ``level`` (competency key, or competency key/dimension name)."""
    items = cb.items
    if level == "competency":
        return dict(zip(items["item"], items["competency"]))
    return dict(zip(items["item"], items["competency"] + "/" + items["dimension_name"]))


def _labels(cb: Codebook, level: str) -> dict[str, str]:
    items = cb.items
    if level == "competency":
        return dict(zip(items["competency"], items["competency_name"]))
    return dict(zip(items["competency"] + "/" + items["dimension_name"], items["dimension_name"]))


def _group_changes(old: Codebook, new: Codebook, level: str) -> tuple[list[dict], dict[str, str], set]:
    """Rows for one level, the old -> new correspondence, and the (old, new) pairs of splits/merges."""
    mo, mn = _membership(old, level), _membership(new, level)
    common = [i for i in mo if i in mn]
    counts = (
        pd.crosstab(pd.Series([mo[i] for i in common], name="old"), pd.Series([mn[i] for i in common], name="new"))
        if common
        else pd.DataFrame()
    )
    size_o = pd.Series([mo[i] for i in common]).value_counts() if common else pd.Series(dtype=int)
    size_n = pd.Series([mn[i] for i in common]).value_counts() if common else pd.Series(dtype=int)
    groups_o = list(dict.fromkeys(mo.values()))
    groups_n = list(dict.fromkeys(mn.values()))

    def contributes(a: str, b: str) -> bool:
        k = int(counts.loc[a, b]) if (a in counts.index and b in counts.columns) else 0
        return k >= 2 and k >= 0.5 * min(size_o.get(a, 0), size_n.get(b, 0))

    pairs = {(a, b) for a in groups_o for b in groups_n if contributes(a, b)}
    rows: list[dict] = []
    lab_o, lab_n = _labels(old, level), _labels(new, level)
    structural: set = set()
    # split: one old group's items form two or more new groups; merged: one new group gathers two or more old ones
    for change, sources, targets in (("split", groups_o, groups_n), ("merged", groups_n, groups_o)):
        for x in sources:
            links = [(x, y) if change == "split" else (y, x) for y in targets]
            links = [p for p in links if p in pairs]
            if len(links) < 2:
                continue
            olds, news = list(dict.fromkeys(p[0] for p in links)), list(dict.fromkeys(p[1] for p in links))
            label = lab_o[x] if change == "split" else lab_n[x]
            # every item that changed group, by the group it came from (split: went to)
            detail = "; ".join(
                f"{p[1] if change == 'split' else p[0]}: {int(counts.loc[p])} items ("
                + ", ".join(i for i in common if (mo[i], mn[i]) == p)
                + ")"
                for p in links
            )
            rows.append(_row(level, change, label, ", ".join(olds), ", ".join(news), detail))
            structural |= set(links)
    # correspondence: the new group holding most of an old group's items (ties: the same id, then the same name),
    # when it holds at least half of the smaller of the two
    corr: dict[str, str] = {}
    for a in groups_o:
        if a not in counts.index:
            continue
        cands = [b for b in counts.columns if counts.loc[a, b] > 0]
        b = min(cands, key=lambda b: (-int(counts.loc[a, b]), b != a, lab_n[b] != lab_o[a]))
        if int(counts.loc[a, b]) >= 0.5 * min(size_o.get(a, 0), size_n.get(b, 0)):
            corr[a] = b
    for a, b in corr.items():
        # a dimension's id carries its competency's key: a renamed competency does not rename its dimensions
        renamed = lab_o[a] != lab_n[b] or (level == "competency" and a != b)
        if (a, b) not in structural and renamed:
            rows.append(_row(level, "renamed", lab_n[b], f"{a} ({lab_o[a]})", f"{b} ({lab_n[b]})"))
    matched_n = {b for _, b in pairs} | set(corr.values())
    for a in groups_o:
        if a not in corr and not any(p[0] == a for p in pairs):
            rows.append(_row(level, "dropped", lab_o[a], a))
    for b in groups_n:
        if b not in matched_n:
            rows.append(_row(level, "added", lab_n[b], "", b))
    return rows, corr, structural


def diff_codebooks(old: Codebook, new: Codebook) -> pd.DataFrame:
    """What changed from ``old`` to ``new``, one row per change (columns :data:`DIFF_COLUMNS`).

    Parameters
    ----------
    old, new : Codebook

    Returns
    -------
    DataFrame
        ``level`` (item, dimension, competency, scale), ``change``, ``name``, ``from``, ``to``, ``detail``; empty
        when the two codebooks define the same instrument.

    Examples
    --------
    >>> diff = diff_codebooks(load_codebook("config/codebook.yaml"), load_codebook("variants/merged.yaml"))
    >>> diff[diff.change == "merged"]  # doctest: +SKIP
    """
    rows: list[dict] = []
    scale_o = f"{old.scale_type} {old.scale_min}-{old.scale_max}"
    scale_n = f"{new.scale_type} {new.scale_min}-{new.scale_max}"
    if scale_o != scale_n:
        rows.append(_row("scale", "changed", "scale", scale_o, scale_n))
    comp_rows, comp_corr, comp_struct = _group_changes(old, new, "competency")
    dim_rows, dim_corr, dim_struct = _group_changes(old, new, "dimension")
    io, in_ = old.items.set_index("item"), new.items.set_index("item")
    item_rows = []
    for i in io.index:
        if i not in in_.index:
            item_rows.append(_row("item", "dropped", i, io.loc[i, "competency"]))
            continue
        a, b = io.loc[i, "competency"], in_.loc[i, "competency"]
        da, db = f"{a}/{io.loc[i, 'dimension_name']}", f"{b}/{in_.loc[i, 'dimension_name']}"
        if comp_corr.get(a) != b and (a, b) not in comp_struct:
            detail = f"{io.loc[i, 'dimension_name']} -> {in_.loc[i, 'dimension_name']}"
            item_rows.append(_row("item", "moved", i, a, b, detail))
        elif dim_corr.get(da) != db and (da, db) not in dim_struct:
            item_rows.append(_row("item", "moved", i, da, db, "to another dimension"))
        rev_o, rev_n = bool(io.loc[i, "reverse"]), bool(in_.loc[i, "reverse"])
        if rev_o != rev_n:
            item_rows.append(_row("item", "reverse_changed", i, str(rev_o).lower(), str(rev_n).lower()))
        if str(io.loc[i, "text"]) != str(in_.loc[i, "text"]):
            item_rows.append(_row("item", "text_changed", i))
    item_rows += [_row("item", "added", i, "", in_.loc[i, "competency"]) for i in in_.index if i not in io.index]
    rows += comp_rows + dim_rows + item_rows
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)
