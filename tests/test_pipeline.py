"""End-to-end: the Snakemake pipeline on a tiny instrument that is not the seed's (5 factors, 1-6 scale).

The session's shared run (``e2e_project`` in conftest.py, two cores) serves the contract and conservation checks;
a second run of the same inputs on one core shows that tables are byte-identical whatever the number of cores, and
is then edited to show that only the affected rules rerun.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from pipeline_fixtures import ROOT, SNAKEMAKE, run_snakemake, write_project

pytestmark = pytest.mark.e2e


def _jobs(dry_run_output: str) -> set[str]:
    return set(re.findall(r"^(?:local)?rule (\w+):", dry_run_output, re.M)) - {"all"}


@pytest.fixture(scope="module")
def project(e2e_project, tmp_path_factory):
    """``a``: the session's shared run (two cores); ``b``: the same inputs run again on one core, for the
    determinism checks and as the copy that the codebook-edit test changes."""
    a = e2e_project
    b = tmp_path_factory.mktemp("e2e_b") / "b"
    for part in ("config", "data/raw"):
        shutil.copytree(a / part, b / part)
    rb = run_snakemake(b, cores=1)
    assert rb.returncode == 0, rb.stderr[-4000:]
    return a, b


def test_summary_contract(project):
    a, _ = project
    s = json.loads((a / "results" / "summary.json").read_text())
    for key in ("n_raw", "n_analyzed", "excluded", "reliability", "efa", "criterion", "provenance"):
        assert key in s
    assert set(s["reliability"]) == {"f1", "f2", "f3", "f4", "f5"}
    for rec in s["reliability"].values():
        assert rec["n_items"] == 4
        lo, hi = rec["alpha_ci"]
        assert lo < rec["alpha"] < hi
        assert 0 < rec["omega_total"] <= 1
    assert s["efa"]["n_factors_extracted"] == 5
    assert set(s["criterion"]["sales"]) >= {"f1", "f2", "f3", "f4", "f5"}
    assert s["provenance"]["seed"] == s["provenance"]["config"]["seed"]
    assert len(s["provenance"]["inputs_sha256"]["survey"]) == 64


def test_conservation_law_and_exclusion_log(project):
    a, _ = project
    s = json.loads((a / "results" / "summary.json").read_text())
    assert s["n_raw"] == s["n_analyzed"] + sum(s["excluded"].values())
    excl = pd.read_csv(a / "data" / "processed" / "exclusions.csv")
    assert len(excl) == sum(s["excluded"].values())
    assert excl["reason"].value_counts().to_dict() == s["excluded"]
    raw = pd.read_csv(a / "data" / "raw" / "survey.csv", dtype=str)
    assert len(raw) == s["n_raw"]


def test_scale_and_items_of_the_other_instrument_were_used(project):
    a, _ = project
    dist = pd.read_csv(a / "results" / "descriptives" / "response_distribution.csv")
    assert sorted(dist["category"].unique()) == [1, 2, 3, 4, 5, 6]
    assert dist["item"].str.match(r"^Q\d_[ab]\d$").all()


def test_two_runs_on_two_cores_and_one_give_byte_identical_tables(project):
    a, b = project
    files = sorted(p.relative_to(a) for p in (a / "results").rglob("*") if p.is_file())
    files += sorted(p.relative_to(a) for p in (a / "data" / "processed").rglob("*") if p.is_file())
    assert len(files) > 20
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs between runs"


def test_nothing_reruns_when_nothing_changed(project):
    a, _ = project
    r = run_snakemake(a, "-n")
    assert r.returncode == 0, r.stderr
    assert _jobs(r.stdout + r.stderr) == set()


def _planned_jobs(dry_run_output: str) -> set[tuple[str, str]]:
    """(rule, variant infix) of every job a dry run plans; the infix is '' for the original and for rules without
    the {v} wildcard."""
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output):
        m = re.match(r"(?:local)?rule (\w+):", block.strip())
        if m and m.group(1) != "all":
            v = re.search(r"^\s*wildcards: .*?\bv=([^,\s]*)", block, re.M)
            jobs.add((m.group(1), v.group(1) if v else ""))
    return jobs


def test_editing_one_variant_plans_only_that_variant_and_the_comparison(project):
    """Issue 13: a change to config/variants/trimmed.yaml reruns trimmed's analyses and what compares the variants,
    nothing of the original or of the other variant."""
    import os

    _, b = project
    path = b / "config" / "variants" / "trimmed.yaml"
    before, stat = path.read_text(), path.stat()
    d = yaml.safe_load(before)
    d["modules"][0]["competencies"][0]["dimensions"][0]["items"].pop()  # drop one more item
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    try:
        r = run_snakemake(b, "-n")
        assert r.returncode == 0, r.stderr[-3000:]
        jobs = _planned_jobs(r.stdout + r.stderr)
    finally:
        path.write_text(before)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    variant_jobs = {rule for rule, v in jobs if v == "variants/trimmed/"}
    assert {"score", "reliability", "efa", "cfa", "validity", "criterion", "holdout_fit", "summary"} <= variant_jobs
    others = {rule for rule, v in jobs if v != "variants/trimmed/"}
    # the comparison and its presentation (table, figure, report), and the diff of the edited codebook
    assert others == {
        "compare_variants",
        "codebook_diff",
        "tables_variants",
        "figures_variants",
        "figures_variants_translated",
        "report_html",
    }, others
    restored = run_snakemake(b, "-n")  # the file back as it was: nothing to do
    assert restored.returncode == 0 and _jobs(restored.stdout + restored.stderr) == set()


def test_codebook_edits_rerun_only_affected_rules(project):
    _, b = project
    cb_path = b / "config" / "codebook.yaml"
    cb = yaml.safe_load(cb_path.read_text())
    # 1. wording only: only the codebook table is rebuilt
    cb["modules"][0]["competencies"][0]["dimensions"][0]["items"][0]["text"] = "A reworded item"
    cb_path.write_text(yaml.safe_dump(cb, sort_keys=False))
    r = run_snakemake(b, "-n")
    assert r.returncode == 0, r.stderr
    # summary carries the codebook hash (provenance), so it and what reads it (report, notebook) are rebuilt, and
    # the diff of the variants against it (text_changed) and the suggestions' ready codebooks (they carry the
    # wording); no analysis, figure or table is, nor the suggestions' refits (they depend on the structure only)
    assert _jobs(r.stdout + r.stderr) == {
        "codebook_table",
        "summary",
        "codebook_diff",
        "suggestion_codebooks",
        "report_html",
        "notebook",
    }
    # 2. move one item of f1 to f3: ingest is untouched, screening/scoring/analyses rerun
    moved = cb["modules"][0]["competencies"][0]["dimensions"][1]["items"].pop()
    target = next(c for m in cb["modules"] for c in m["competencies"] if c["key"] == "f3")
    target["dimensions"][0]["items"].append(moved)
    cb_path.write_text(yaml.safe_dump(cb, sort_keys=False))
    r = run_snakemake(b, "-n")
    jobs = _jobs(r.stdout + r.stderr)
    assert "ingest" not in jobs
    assert {"screen", "score", "reliability", "efa", "criterion", "summary"} <= jobs
    r = run_snakemake(b)
    assert r.returncode == 0, r.stderr[-4000:]
    s = json.loads((b / "results" / "summary.json").read_text())
    assert s["reliability"]["f1"]["n_items"] == 3
    assert s["reliability"]["f3"]["n_items"] == 5


def test_strict_privacy_without_key_fails_with_one_message(tmp_path):
    write_project(tmp_path, n=60)
    r = run_snakemake(tmp_path, "results/cleaning/ingest_report.json", env_key="")
    assert r.returncode != 0
    assert "no pseudonymisation key" in r.stderr
    assert not (tmp_path / "data" / "processed" / "responses.csv").exists()


def test_snakemake_lint_is_clean():
    r = subprocess.run([SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert "Lints for" not in out, out
    assert r.returncode == 0, out


def test_split_half_cross_validation(tmp_path):
    """efa.split_half + cfa.sample: confirm -> EFA on one seeded half, CFA and validity on the other."""
    cfg_path = write_project(tmp_path, n=200)

    def after_efa() -> set[str]:
        r = run_snakemake(tmp_path, "results/cfa/fit.csv", "results/validity/summary.json", "--forceall", "--dag")
        assert r.returncode == 0, r.stderr[-4000:]
        return _downstream(r.stdout).get("efa", set())

    # on all respondents the CFA stages do not wait for the EFA (at 10^6 rows it takes over a minute)
    assert not {"cfa", "validity"} & after_efa()
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["efa"]["split_half"] = True
    cfg["cfa"]["sample"] = "confirm"
    cfg["cfa"]["rivals"] = ["one_factor"]
    cfg["validity"]["invariance_group"] = None
    cfg["validity"]["htmt_boot"] = 20
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    assert {"cfa", "validity"} <= after_efa()  # on the confirmation half they do
    r = run_snakemake(tmp_path, "results/efa/summary.json", "results/cfa/fit.csv", "results/validity/summary.json")
    assert r.returncode == 0, r.stderr[-4000:]
    split = pd.read_csv(tmp_path / "data" / "processed" / "split_half.csv")
    assert set(split["half"]) == {"explore", "confirm"}
    n_explore = int((split["half"] == "explore").sum())
    n_confirm = int((split["half"] == "confirm").sum())
    assert abs(n_explore - n_confirm) <= 1
    efa = json.loads((tmp_path / "results" / "efa" / "summary.json").read_text())["efa"]
    assert efa["n"] == n_explore and efa["split_half"] is True
    fit = pd.read_csv(tmp_path / "results" / "cfa" / "fit.csv").set_index("model")
    # FIML keeps every confirm-half respondent with at least one answer
    assert fit.loc["hypothesized", "ntotal"] == n_confirm


def test_ordinal_estimator_end_to_end(tmp_path):
    """cfa.estimator: WLSMV -> ordinal CFA of every item model (pairwise polychorics), ordinal invariance
    (DIFFTEST; strict not applicable; MLR when a category is empty in a group), parcels/latent regression by MLR,
    EBM factor scores for every respondent, and a report and notebook that run with it."""
    cfg_path = write_project(tmp_path, n=200)
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["cfa"]["estimator"] = "WLSMV"
    cfg["validity"]["htmt_boot"] = 20
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = run_snakemake(tmp_path, "results/report.html", "results/notebooks/validation_report.html")
    assert r.returncode == 0, r.stderr[-4000:]
    fit = pd.read_csv(tmp_path / "results" / "cfa" / "fit.csv").set_index("model")
    item_models = [m for m in fit.index if m != "parcels"]
    assert (fit.loc[item_models, "estimator"] == "WLSMV").all()
    if "parcels" in fit.index:
        assert fit.loc["parcels", "estimator"] == "MLR"
    assert fit.loc["hypothesized", "status"] == "ok"
    assert fit.loc["hypothesized", "chisq.scaled"] > 0 and pd.isna(fit.loc["hypothesized", "bic"])
    params = pd.read_csv(tmp_path / "results" / "cfa" / "parameters.csv")
    hyp = params[params["model"] == "hypothesized"]
    assert (hyp["op"] == "|").sum() == 20 * 5  # 20 items, 6 categories
    s = json.loads((tmp_path / "results" / "summary.json").read_text())
    comp = s["cfa"]["comparison"]
    assert comp["selection_criterion"] == "cfi" and comp["best_bic"] is None and comp["best_model"]
    assert s["cfa"]["hypothesized"]["cutoff_keys"]["cfi"] in ("cfi.robust", "cfi.scaled")
    inv = s["validity"]["invariance"]
    if inv["estimator"] == "WLSMV":
        assert "not applicable" in inv["strict"]["status"] and inv["configural"]["status"] == "ok"
    else:  # a category empty in a small group: lavaan (and we) cannot fit the ordinal configural model
        assert inv["estimator"] == "MLR" and "is empty in group" in inv["note"]
    for rec in (v for k, v in s["validity"].items() if k.startswith("f")):
        assert 0 < rec["cr"] < 1
    scores = pd.read_csv(tmp_path / "data" / "processed" / "factor_scores.csv", index_col=0)
    assert scores.notna().all().all()  # EBM scores every respondent, missing answers or not
    html = (tmp_path / "results" / "report.html").read_text()
    assert "Highest CFI (no likelihood under WLSMV)" in html


def _rule_sources() -> dict[str, list[str]]:
    """rule -> the sources its code_version digest covers, read from workflow/rules/*.smk."""
    out, inherits = {}, {}
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=[ \t]*(?:rule |use rule ))", path.read_text()):  # also within an `if`
            m = re.match(r"[ \t]*(?:use rule (\w+) as (\w+)|rule (\w+))", block)
            if not m:
                continue
            code = re.search(r"code=code_version\(([^)]*)\)", block)
            if code:
                out[m.group(2) or m.group(3)] = re.findall(r'"([^"]+)"', code.group(1))
            elif m.group(2):  # `use rule ... with:` merges keyword params: the base rule's code param holds
                inherits[m.group(2)] = m.group(1)

    def base_of(rule: str) -> str:  # through chains of `use rule` (figures -> figures_variants -> ..._translated)
        return base_of(inherits[rule]) if rule in inherits else rule

    return {**out, **{rule: out[base_of(rule)] for rule in inherits if base_of(rule) in out}}


def _runtime_imports(script) -> set[str]:
    """compval modules a script's top-level imports load at run time (an independent check of the closure)."""
    import ast
    import sys

    tree = ast.parse(script.read_text())
    imports = "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    code = (
        f"{imports}\nimport sys\n"
        "print(' '.join(sorted(m.replace('.', '/') + ('/__init__' if hasattr(mod, '__path__') else '')\n"
        "                      for m, mod in sys.modules.items() if m.split('.')[0] == 'compval')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {m.removeprefix("compval/") for m in out}


@pytest.mark.slow
def test_a_library_change_reruns_exactly_the_rules_that_import_it(project, tmp_path):
    """code_version digests the compval modules each rule's script imports (transitively): touching one module
    plans exactly what forcing the rules whose scripts import it plans (them and what depends on their outputs),
    and nothing for a module no rule imports."""
    import os

    from compval.pipeline import import_closure

    a = tmp_path / "project"
    shutil.copytree(project[0], a, symlinks=True)
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for part in ("workflow", "notebooks"):
        shutil.copytree(ROOT / part, repo / part, ignore=ignore)
    shutil.copytree(ROOT / "src" / "compval", repo / "src" / "compval", ignore=ignore)
    shutil.copy(ROOT / "Snakefile", repo / "Snakefile")
    env = dict(os.environ, COMPVAL_TEST_KEY="e2e-test-key", SOURCE_DATE_EPOCH="0", PYTHONPATH=str(repo / "src"))

    def smk(*args: str) -> str:
        cfg = str(a / "config" / "config.yaml")
        cmd = [SNAKEMAKE, "-s", str(repo / "Snakefile"), "--directory", str(a), "--configfile", cfg, *args]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=a)
        assert r.returncode == 0, r.stderr[-3000:]
        return r.stdout + r.stderr

    def planned(*args: str) -> set[str]:
        return _jobs(smk("-n", *args))

    reach = _downstream(smk("--forceall", "--dag"))

    def forcing(rules: set[str]) -> set[str]:
        """What must rerun when exactly these rules must: them and everything downstream (from the DAG)."""
        return set().union(*(reach[r] for r in rules)) - {"all"} if rules else set()

    # the notebook rule names its notebook by absolute path: rerun it once from the copy, then nothing is planned
    smk("--cores", "2", "--forcerun", "notebook", "--until", "notebook")
    assert planned() == set()  # the copy is the same code
    in_dag = planned("--forceall")  # the rules of the default target (power rules are a target of their own)
    assert planned("--forcerun", "score") == forcing({"score"})  # the DAG's reach is what Snakemake reruns
    sources = {rule: srcs for rule, srcs in _rule_sources().items() if rule in in_dag}
    closures = {rule: set(import_closure([ROOT / s for s in srcs])) for rule, srcs in sources.items()}
    for rule, srcs in sources.items():  # the static closure covers what the script really loads
        assert _runtime_imports(ROOT / srcs[0]) <= closures[rule], rule
    modules = sorted(
        p.relative_to(repo / "src" / "compval").with_suffix("").as_posix()
        for p in (repo / "src" / "compval").rglob("*.py")
    )
    assert {"cfa", "sem/engine", "present/tables", "config"} <= set(modules)
    expected = {mod: frozenset(rule for rule, mods in closures.items() if mod in mods) for mod in modules}
    # every module: touching it changes the code_version digest (the Snakefile's code_version: module_digest of
    # import_closure) of exactly the rules whose scripts import it - computed by the copy's own compval.pipeline
    changed = _digest_changes(repo, sources, modules, env)
    for mod in modules:
        assert changed[mod] == set(expected[mod]), mod
    # and Snakemake plans exactly those rules and what depends on them: one dry run per distinct set of rules
    # (a representative module of each), since every module of a set changes the same digests
    representatives = {rules: mod for mod, rules in sorted(expected.items(), reverse=True)}
    for rules, mod in sorted(representatives.items(), key=lambda kv: kv[1]):
        path = repo / "src" / "compval" / f"{mod}.py"
        original = path.read_text()
        path.write_text(original + "\n# touched by the test\n")
        try:
            assert planned() == forcing(set(rules)), mod
        finally:
            path.write_text(original)


def _downstream(dag_dot: str) -> dict[str, set[str]]:
    """rule -> itself and every rule downstream of it, from ``snakemake --dag`` (Graphviz) output."""
    # a job's label is its rule, then its wildcards on further lines ("score\nv: variants/merged/")
    labels = dict(re.findall(r"^\s*(\d+)\[label = \"(\w+)", dag_dot, re.M))
    children: dict[str, set[str]] = {name: set() for name in labels.values()}
    for src, dst in re.findall(r"^\s*(\d+) -> (\d+)", dag_dot, re.M):
        children[labels[src]].add(labels[dst])

    def reach(rule: str) -> set[str]:
        return {rule}.union(*(reach(c) for c in children[rule]))

    return {rule: reach(rule) for rule in children}


def _digest_changes(repo, sources: dict, modules: list[str], env: dict) -> dict[str, set[str]]:
    """module -> the rules whose code_version digest changes when that module's file changes (one subprocess
    running the copy's compval.pipeline on the copy's files; each file restored after its touch)."""
    import sys

    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from compval.pipeline import import_closure, module_digest\n"
        "repo = Path(sys.argv[1]); sources = json.loads(sys.argv[2]); modules = json.loads(sys.argv[3])\n"
        "def digests():\n"
        "    return {r: module_digest(import_closure([repo / s for s in srcs])) for r, srcs in sources.items()}\n"
        "before = digests(); out = {}\n"
        "for mod in modules:\n"
        "    path = repo / 'src' / 'compval' / f'{mod}.py'; original = path.read_text()\n"
        "    path.write_text(original + '\\n# touched\\n')\n"
        "    try:\n"
        "        after = digests()\n"
        "    finally:\n"
        "        path.write_text(original)\n"
        "    out[mod] = sorted(r for r in sources if after[r] != before[r])\n"
        "print(json.dumps(out))\n"
    )
    args = [sys.executable, "-c", code, str(repo), json.dumps(sources), json.dumps(modules)]
    r = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    return {m: set(rules) for m, rules in json.loads(r.stdout).items()}


@pytest.mark.slow
def test_a_fragment_missing_a_required_key_fails_the_summary_rule_with_its_key_path(project, tmp_path):
    a, _ = project
    c = tmp_path / "c"
    shutil.copytree(a, c, symlinks=True)
    frag = c / "results" / "efa" / "summary.json"
    data = json.loads(frag.read_text())
    del data["efa"]["kmo"]
    frag.write_text(json.dumps(data))
    r = run_snakemake(c, "results/summary.json")
    assert r.returncode != 0
    assert "BUG in rule summary: SummaryContractError:" in r.stderr
    assert "efa: 'kmo' is a required property" in r.stderr
    assert not (c / "results" / "summary.json").exists()  # no half-written result
    assert "Traceback" in (c / "logs" / "summary.log").read_text()


def test_the_variants_are_compared_side_by_side(project):
    """Issue 13 on the tiny instrument: each variant has its own summary with the holdout section; the comparison
    (tidy CSV, APA Markdown/DOCX in both languages, figure, report section) shows the merged variant nested in the
    original and worse, and the diff names the moved items."""
    a, _ = project
    out = a / "results" / "variants"
    for name in ("comparison.csv", "comparison.md", "comparison.docx", "comparison.zh.md", "diff.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (a / "results" / "figures" / "fig13_variants.png").stat().st_size > 0
    for variant in ("merged", "trimmed"):
        s = json.loads((out / variant / "summary.json").read_text())
        assert set(s["holdout"]) == {"training", "holdout"} and s["cfa"]["hypothesized"]["status"] == "ok"
    t = pd.read_csv(out / "comparison.csv").set_index("variant")
    assert list(t.index) == ["original", "merged", "trimmed"]
    assert t.loc["merged", "nested"] == "in_original" and t.loc["merged", "p_diff"] < 0.05
    assert t.loc["merged", "delta_bic"] > 10 and t.loc["merged", "delta_cfi"] < 0
    assert not t.loc["trimmed", "same_items"] and pd.isna(t.loc["trimmed", "delta_bic"])
    diff = pd.read_csv(out / "diff.csv")
    merged = diff[(diff["variant"] == "merged") & (diff["change"] == "merged")]
    moved = [f"Q{f}_{d}{j}" for f in (1, 3) for d in "ab" for j in (1, 2)]  # f1 and f3 merged (merged_variant)
    assert len(merged) == 1 and all(item in merged["detail"].iloc[0] for item in moved)
    report = (a / "results" / "report.html").read_text(encoding="utf-8")
    assert '<section id="revision">' in report and "Codebook Variants Side by Side" in report
    assert '<section id="revision">' in (a / "results" / "report.zh.html").read_text(encoding="utf-8")


def test_each_suggestion_applied_alone_equals_a_fit_of_the_codebook_it_writes(project):
    """Issue 13: a suggestion's "applied alone" numbers (training part) are those of a separate full fit of the
    ready codebook written beside it."""
    from compval import cfa
    from compval.codebook import load_codebook

    a, _ = project
    sugg = pd.read_csv(a / "results" / "revision" / "suggestions.csv")
    assert len(sugg), "the tiny project draws no suggestion"
    items = pd.read_csv(a / "data" / "processed" / "items_scored.csv", index_col="pid")
    part = pd.read_csv(a / "data" / "processed" / "holdout_split.csv", index_col="pid")["part"]
    checked = 0
    for r in sugg.itertuples(index=False):
        cb = load_codebook(a / "results" / "revision" / "codebooks" / r.codebook)
        for name in ("training", "holdout"):
            data = items.loc[part.reindex(items.index) == name, cb.item_ids]
            f = cfa.fit_cfa(data, cfa.hypothesized(cb.groups("competency")), estimator="ML", missing="ml")
            if pd.isna(getattr(r, f"cfi_{name}")):  # no usable solution: the table leaves its fit empty
                assert not (f.converged and f.status == "ok"), (r.suggestion, name, f.status)
                continue
            checked += 1
            assert abs(f.fit["cfi"] - getattr(r, f"cfi_{name}")) < 1e-8, (r.suggestion, name)
            assert abs(f.fit["bic"] - getattr(r, f"bic_{name}")) < 1e-8 * abs(f.fit["bic"]), (r.suggestion, name)
    assert checked >= len(sugg)  # most fits usable: at least one per suggestion on average
